// doc_viewer_strings.js — the document viewer's strings, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  close: { zh: "关闭", en: "Close" },
  zoom_in: { zh: "放大", en: "Zoom in" },
  zoom_out: { zh: "缩小", en: "Zoom out" },
  fit: { zh: "适合窗口", en: "Fit" },
  rotate_left: { zh: "向左旋转", en: "Rotate left" },
  rotate_right: { zh: "向右旋转", en: "Rotate right" },
  mark: { zh: "标记不清晰", en: "Mark unreadable" },
  "mark.reason": { zh: "不清晰的原因（会告诉申请人）", en: "Why it is unreadable (the applicant is told)" },
  "mark.placeholder": { zh: "例如：反光，看不清印章", en: "e.g. glare, the seal cannot be read" },
  "mark.confirm": { zh: "确定标记", en: "Mark it" },
  "mark.cancel": { zh: "取消", en: "Cancel" },
  "mark.required": { zh: "请写明原因。", en: "Please write the reason." },
  "mark.failed": { zh: "标记失败：{message}", en: "Could not mark it: {message}" },
  unreadable: { zh: "已标记为不清晰：{reason}", en: "Marked unreadable: {reason}" },
  zoom: { zh: "缩放 {n}%", en: "Zoom {n}%" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
