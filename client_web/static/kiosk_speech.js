// The kiosk's spoken prompts (speechSynthesis), in the page's language; silent
// where the browser has no speech.

import * as i18n from "./i18n.js";

export function speakText(text) {
  const synth = window.speechSynthesis;
  if (!synth || typeof SpeechSynthesisUtterance === "undefined") return;
  try {
    synth.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = i18n.lang() === "en" ? "en-US" : "zh-CN";
    utterance.rate = 0.9;
    const prefix = utterance.lang.slice(0, 2).toLowerCase();
    const voice = synth.getVoices().find((v) => v.lang.toLowerCase().startsWith(prefix));
    if (voice) utterance.voice = voice;
    synth.speak(utterance);
  } catch (err) {
    console.warn("kiosk: speech failed", err);
  }
}
