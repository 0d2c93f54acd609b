// case_page.js — the page of one case (/case/{number}). The reviewer of its item
// decides (case_decision.js); the agent of its place adds pages while it is open
// and hands the case back after a request for more (capture_panel.js), or
// withdraws it with a reason (case_withdraw.js); a supervisor reads. The case is read again after every action of this page,
// and on the agent's page on each case.updated push about it.

import { pick, setNames } from "./i18n.js";
import { bindLogout } from "./staff.js";
import {
  approvalUrl,
  getCase,
  idNumber,
  listDocuments,
  markUnreadable,
  pageUrl,
  transition,
} from "./case_client.js";
import { names, refusal } from "./case_strings.js";
import { fillFacts, renderChecklist, renderHistory, requestReason } from "./case_view.js";
import { decisionPanel } from "./case_decision.js";
import { capturePanel } from "./capture_panel.js";
import { withdrawPanel } from "./case_withdraw.js";
import { onCaseUpdates } from "./case_live.js";
import { openViewer } from "./doc_viewer.js";
import { showInspection } from "./case_inspection.js";

const OPEN = ["received", "in_review", "more_materials_requested"];
const logout = document.querySelector("#logout");
if (logout) bindLogout(logout);

const root = document.querySelector("#case-root");
if (root) {
  start(root);
  const inspection = root.querySelector("#inspection-panel");
  if (inspection) showInspection(inspection, root.dataset.number).catch(() => {});
}

function start(root) {
  const number = root.dataset.number;
  const view = root.dataset.view;
  const labels = {
    item: { zh: root.dataset.itemZh, en: root.dataset.itemEn },
    place: { zh: root.dataset.placeZh, en: root.dataset.placeEn },
  };
  const message = root.querySelector("#case-message");
  const banner = root.querySelector("#request-banner");
  let current = null;

  function say(text, kind = "") {
    message.hidden = !text;
    message.className = `message ${kind}`.trim();
    if (text) setNames(message, text);
  }

  const decision = view === "reviewer" ? decisionPanel(root, { number, say, reload }) : null;
  const capturing = view === "agent" && root.querySelector("#capture-panel");
  const withdrawing =
    view === "agent" ? withdrawPanel(root, { number, say, reload, isOpen: (c) => OPEN.includes(c.state) }) : null;
  const materialActions = capturing
    ? capturePanel(root, { getNumber: () => number, onStored: () => reload(false), say })
    : null;

  async function reload(clear = true) {
    const [res, docs] = await Promise.all([getCase(number), listDocuments(number)]);
    if (!res.ok || !docs.ok) {
      say(refusal(res.ok ? docs.status : res.status, res.ok ? docs.body : res.body), "error");
      return;
    }
    if (clear) say("");
    current = res.body;
    show(current, docs.body.documents);
  }

  function show(c, docs) {
    fillFacts(root, c, labels);
    showIdNumber();
    const open = OPEN.includes(c.state);
    const asked = requestReason(c);
    banner.hidden = !asked;
    if (asked) setNames(banner, names("request.banner", { reason: asked }));
    const decided = Boolean(c.decision?.reasons) && !open;
    root.querySelector("#decision-label").hidden = !decided;
    root.querySelector("#decision-reasons").hidden = !decided;
    showApproval(c);
    decision?.show(c);
    withdrawing?.show(c);
    if (capturing) {
      capturing.hidden = !open;
      root.querySelector("#do-resubmit").hidden = c.state !== "more_materials_requested";
    }
    renderChecklist(root.querySelector("#checklist"), c, docs, {
      materialActions: capturing && open ? materialActions : null,
      openPage,
    });
    renderHistory(root.querySelector("#history-rows"), c);
  }

  // A page opened large (zoom, rotate); the reviewer of an open case marks it there.
  function openPage(doc) {
    openViewer({
      src: pageUrl(number, doc.id),
      title: names("page.title", { material: doc.material, n: doc.page }),
      document: doc,
      canMark: view === "reviewer" && OPEN.includes(current.state) && doc.state === "ok",
      onMark: async (reason) => {
        const res = await markUnreadable(number, doc.id, reason);
        if (!res.ok) throw new Error(pick(refusal(res.status, res.body)));
        say(names("page.marked"), "ok");
        await reload(false);
        return res.body;
      },
    });
  }

  function showApproval(c) {
    const panel = root.querySelector("#approval-panel");
    const doc = c.approval;
    panel.hidden = !(c.state === "approved" && doc);
    if (panel.hidden) return;
    root.querySelector("#approval-link").href = approvalUrl(c.number);
    root.querySelector("#approval-sha").textContent = doc.sha256 || "";
  }

  // The full ID number, once asked for (audited), stays shown until hidden again.
  const showId = root.querySelector("#show-id");
  let fullId = null;
  function showIdNumber() {
    if (!showId) return;
    const value = fullId || current.applicant.id_number;
    setNames(root.querySelector("#id-number"), { zh: value, en: value });
    setNames(showId, names(fullId ? "id.hide" : "id.show"));
  }
  showId?.addEventListener("click", async () => {
    if (fullId) {
      fullId = null;
    } else {
      const res = await idNumber(number);
      if (!res.ok) {
        say(refusal(res.status, res.body), "error");
        return;
      }
      fullId = res.body.id_number;
    }
    showIdNumber();
  });

  const resubmit = root.querySelector("#do-resubmit");
  resubmit?.addEventListener("click", async () => {
    resubmit.disabled = true;
    try {
      const res = await transition(number, "in_review");
      if (!res.ok) {
        say(refusal(res.status, res.body), "error");
        await reload(false);
        return;
      }
      say(names("ok.resubmitted"), "ok");
      await reload(false);
    } finally {
      resubmit.disabled = false;
    }
  });

  reload();
  if (view === "agent") {
    onCaseUpdates((msg) => {
      if (!msg || msg.number === number) reload(false);
    });
  }
}
