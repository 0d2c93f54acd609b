// case_withdraw.js — the agent's 撤回 (withdraw) on the case page, while the case
// is open. The reason is required here (the server keeps it in the history);
// a first press asks for confirmation, a second one withdraws: it cannot be undone.

import { setNames } from "./i18n.js";
import { transition } from "./case_client.js";
import { names, refusal } from "./case_strings.js";

/** Wire the withdraw panel under root; show(c) shows it while c is open. */
export function withdrawPanel(root, { number, say, reload, isOpen }) {
  const panel = root.querySelector("#withdraw-panel");
  if (!panel) return null;
  const reason = panel.querySelector("#withdraw-reason");
  const button = panel.querySelector("#do-withdraw");
  const confirm = panel.querySelector("#withdraw-confirm");
  let armed = false;

  function disarm() {
    armed = false;
    confirm.hidden = true;
    setNames(button, names("do.withdraw"));
  }

  reason.addEventListener("input", disarm);
  button.addEventListener("click", async () => {
    const text = reason.value.trim();
    if (!text) {
      disarm();
      say(names("withdraw.no_reason"), "error");
      reason.focus();
      return;
    }
    if (!armed) {
      armed = true;
      confirm.hidden = false;
      setNames(confirm, names("withdraw.confirm"));
      setNames(button, names("do.withdraw_confirm"));
      return;
    }
    button.disabled = true;
    try {
      const res = await transition(number, "withdrawn", text);
      disarm();
      if (!res.ok) {
        say(refusal(res.status, res.body), "error");
        await reload(false);
        return;
      }
      reason.value = "";
      say(names("ok.withdrawn"), "ok");
      await reload(false);
    } finally {
      button.disabled = false;
    }
  });

  return {
    show(c) {
      panel.hidden = !isOpen(c);
      if (panel.hidden) disarm();
    },
  };
}
