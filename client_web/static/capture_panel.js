// capture_panel.js — adding pages to a case at the counter: the document camera
// (its device chosen once, see doc_capture.js) and scanned uploads, one pair of
// buttons per checklist material. Markup: templates/_capture.html.

import { setNames } from "./i18n.js";
import { addPage } from "./case_client.js";
import { names, refusal } from "./case_strings.js";
import { DocCamera, rememberDevice, rememberedDevice, videoInputs } from "./doc_capture.js";
import { el } from "./case_view.js";

/**
 * Wire the capture panel under `root` for the case `getNumber()`.
 * `onStored(doc)` runs after each stored page, `say(names, kind)` shows a message.
 * Returns materialActions(code) for renderChecklist.
 */
export function capturePanel(root, { getNumber, onStored, say }) {
  const video = root.querySelector("#cam-preview");
  const select = root.querySelector("#cam-device");
  const toggle = root.querySelector("#cam-open");
  const camera = new DocCamera(video);
  const shooters = new Set();
  let busy = false;

  const refreshButtons = () => {
    for (const b of shooters) {
      if (b.isConnected) b.disabled = !camera.open || busy;
      else shooters.delete(b); // its checklist was drawn again
    }
    setNames(toggle, names(camera.open ? "cap.close" : "cap.open"));
    video.hidden = !camera.open;
  };

  async function listDevices(chosen) {
    const inputs = await videoInputs();
    select.replaceChildren(
      ...inputs.map((d, i) =>
        d.label
          ? el("option", { value: d.deviceId }, d.label)
          : el("option", { value: d.deviceId, names: names("cap.camera", { n: i + 1 }) }),
      ),
    );
    if (chosen && inputs.some((d) => d.deviceId === chosen)) select.value = chosen;
    select.disabled = inputs.length < 2;
    return inputs;
  }

  async function open() {
    try {
      const used = await camera.start(select.value || rememberedDevice());
      await listDevices(used);
    } catch (err) {
      const why = err?.name === "NotFoundError" ? null : err?.message || String(err);
      say(why ? names("cap.denied", { why }) : names("cap.none"), "error");
    }
    refreshButtons();
  }

  toggle.addEventListener("click", () => {
    if (camera.open) {
      camera.stop();
      refreshButtons();
    } else {
      open();
    }
  });
  select.addEventListener("change", () => {
    rememberDevice(select.value);
    if (camera.open) open();
  });
  listDevices(rememberedDevice()).catch(() => {});
  refreshButtons();

  async function store(code, blob, source) {
    busy = true;
    refreshButtons();
    try {
      const res = await addPage(getNumber(), code, blob, source);
      if (!res.ok) {
        say(refusal(res.status, res.body), "error");
        return;
      }
      say(names("ok.stored", { material: code, page: res.body.page }), "ok");
      await onStored(res.body);
    } finally {
      busy = false;
      refreshButtons();
    }
  }

  return function materialActions(code) {
    const shoot = el("button", { type: "button", class: "btn shoot", names: names("cap.shoot"), dataset: { material: code } });
    shoot.addEventListener("click", async () => {
      let blob;
      try {
        blob = await camera.still();
      } catch (err) {
        say(names("cap.failed", { why: err?.message || String(err) }), "error");
        return;
      }
      await store(code, blob, "camera");
    });
    shooters.add(shoot);
    const input = el("input", {
      type: "file",
      accept: "application/pdf,image/jpeg,image/png",
      class: "scan-input",
      dataset: { material: code },
    });
    input.addEventListener("change", async () => {
      const file = input.files?.[0];
      input.value = "";
      if (file) await store(code, file, "upload");
    });
    const upload = el("label", { class: "btn scan" }, el("span", { names: names("cap.upload") }), input);
    shoot.disabled = !camera.open || busy; // not in the page yet: refreshButtons skips it
    return [shoot, upload];
  };
}
