// receipt_strings.js — strings of the receipt (受理回执) and the public verification
// page, zh-CN first. The server renders the Chinese text; elements marked
// data-s="key" (and data-s-args='{"n": 2}') get both languages from here.

import { stringTable } from "./i18n.js";
import { applyPageStrings } from "./page_strings.js";

const S = {
  "receipt.title": { zh: "受理回执", en: "Acknowledgement of receipt" },
  "receipt.print": { zh: "打印回执", en: "Print the receipt" },
  "receipt.number": { zh: "办件编号", en: "Case number" },
  "receipt.keep": {
    zh: "请妥善保管本回执，凭办件编号查询办理进度、领取办理结果。",
    en: "Keep this receipt: the case number lets you follow the case and collect the result.",
  },
  "receipt.not_found.title": { zh: "没有找到这个办件", en: "No such case" },
  "receipt.not_found.body": {
    zh: "没有编号为 {number} 的办件，请检查编号。",
    en: "There is no case numbered {number}; please check the number.",
  },
  "fact.item": { zh: "办理事项", en: "Service" },
  "fact.department": { zh: "承办部门", en: "Department" },
  "fact.place": { zh: "受理地点", en: "Received at" },
  "fact.received": { zh: "受理时间", en: "Received on" },
  "fact.deadline": { zh: "承诺办结日期", en: "To be decided by" },
  "fact.deadline.value": {
    zh: "{date}（承诺时限 {days} 个工作日）",
    en: "{date} (within {days} working days)",
  },
  "fact.applicant": { zh: "申请人", en: "Applicant" },
  "fact.id": { zh: "身份证号", en: "ID number" },
  "fact.state": { zh: "办理状态", en: "Status" },
  "fact.number": { zh: "办件编号", en: "Case number" },
  "fact.result": { zh: "办理结果", en: "Result" },
  "fact.sha256": { zh: "批件摘要（SHA-256）", en: "Approval document digest (SHA-256)" },
  "materials.title": { zh: "申请材料", en: "Materials" },
  "materials.name": { zh: "材料名称", en: "Material" },
  "materials.status": { zh: "收取情况", en: "Received" },
  "materials.received": { zh: "已收取（{n} 页）", en: "Received ({n} pages)" },
  "materials.missing": { zh: "未收取", en: "Missing" },
  "materials.missing_note": {
    zh: "尚有材料未收取，请按要求补交；材料齐全后方可作出决定。",
    en: "Some materials are missing: please hand them in; the case cannot be decided without them.",
  },
  "qr.caption": {
    zh: "扫描二维码或访问下列网址，查询办理进度和结果：",
    en: "Scan the QR code or open this address to follow the case and its result:",
  },
  "verify.title": { zh: "办件核验", en: "Case verification" },
  "verify.no_document": { zh: "尚未出具批件", en: "No approval document issued yet" },
  "verify.how": {
    zh: "核对方法：您手中批件文件的 SHA-256 摘要应与上面的完全一致。本页只显示办件编号、办理事项、办理结果和批件摘要。",
    en: "To check: the SHA-256 digest of the approval document you hold must equal the one above. This page shows only the case number, service, result and the document's digest.",
  },
  "verify.unknown.title": { zh: "没有找到这个核验码", en: "This verification code is unknown" },
  "verify.unknown.body": {
    zh: "请检查网址是否完整，是否与批件或回执上二维码中的网址一致。",
    en: "Please check that the address is complete and the same as in the QR code on the document or receipt.",
  },
};

const table = stringTable(S);

/** {zh, en} for a key, placeholders filled in both languages. */
export const names = table.names;

/** Give every [data-s] element under root its strings, and the title its own. */
export function applyStrings(titleKey, root = document) {
  applyPageStrings(table, titleKey, root);
}
