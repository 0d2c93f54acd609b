// followups_strings.js — the follow-up page (差评整改), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  loading: { zh: "正在加载…", en: "Loading…" },
  none: { zh: "没有需要整改的评价。", en: "No follow-ups." },
  count: { zh: "共 {n} 条（最新的在前）", en: "{n} follow-ups (newest first)" },
  error: { zh: "操作未成功：{message}", en: "Not done: {message}" },
  "state.open": { zh: "待整改", en: "Open" },
  "state.responded": { zh: "待复核", en: "Responded" },
  "state.closed": { zh: "已关闭", en: "Closed" },
  overdue: { zh: "已超期", en: "Overdue" },
  "head.rating": { zh: "评价：{level}", en: "Rating: {level}" },
  "head.kind.session": { zh: "视频办理 {subject}", en: "Video session {subject}" },
  "head.kind.case": { zh: "办件 {subject}", en: "Case {subject}" },
  department: { zh: "部门：{department}", en: "Department: {department}" },
  deadline: { zh: "整改期限：{date}", en: "Due: {date}" },
  assignee: { zh: "责任人：{name}", en: "Assigned to: {name}" },
  reviewer: { zh: "审批人员：{name}", en: "Reviewer: {name}" },
  reasons: { zh: "原因：{list}", en: "Reasons: {list}" },
  comment: { zh: "意见：{text}", en: "Comment: {text}" },
  response: { zh: "整改情况", en: "Response" },
  respond: { zh: "提交整改情况", en: "Send the response" },
  verdict: { zh: "复核结论", en: "Verdict" },
  "verdict.resolved": { zh: "已整改到位", en: "Resolved" },
  "verdict.unresolved": { zh: "未整改到位", en: "Not resolved" },
  note: { zh: "复核意见（可选）", en: "Note (optional)" },
  close: { zh: "复核并关闭", en: "Check and close" },
  closed: { zh: "复核结论：{verdict}。{note}", en: "Verdict: {verdict}. {note}" },
  responded: { zh: "整改情况（{by}）：{text}", en: "Response ({by}): {text}" },
  nobody: { zh: "未指派", en: "nobody" },
};

const table = stringTable(S);
export const names = table.names;
