// desk_inbox_strings.js — the inbox (待办) panel's strings, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  title: { zh: "待办办件", en: "Open cases" },
  "count.open": { zh: "共 {n} 件", en: "{n} open" },
  "count.overdue": { zh: "已超期 {n}", en: "{n} overdue" },
  "count.due_soon": { zh: "即将到期 {n}", en: "{n} due soon" },
  empty: { zh: "暂无待办办件", en: "No open cases" },
  failed: { zh: "待办列表未能加载，将在重新连接后再试", en: "Could not load the open cases; retried on reconnect" },
  "col.number": { zh: "办件编号", en: "Case" },
  "col.item": { zh: "事项", en: "Service" },
  "col.place": { zh: "受理地点", en: "Received at" },
  "col.state": { zh: "状态", en: "State" },
  "col.applicant": { zh: "申请人", en: "Applicant" },
  "col.remaining": { zh: "剩余工作日", en: "Working days left" },
  "flag.overdue": { zh: "已超期", en: "Overdue" },
  "flag.due_soon": { zh: "即将到期", en: "Due soon" },
  "remaining.days": { zh: "{n} 天", en: "{n}" },
  "remaining.over": { zh: "超期 {n} 天", en: "{n} over" },
  "state.received": { zh: "已受理", en: "Received" },
  "state.in_review": { zh: "审查中", en: "In review" },
  "state.more_materials_requested": { zh: "待补正材料", en: "More materials requested" },
  "state.approved": { zh: "已准予", en: "Approved" },
  "state.rejected": { zh: "不予许可", en: "Rejected" },
  "state.withdrawn": { zh: "已撤回", en: "Withdrawn" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;

/** Whether the panel has a string for this key. */
export const has = table.has;
