// village_strings.js — words of 乡村随身办 (/village) and the points ledger (/points),
// zh-CN first, and the points API's refusals in plain words.

import { stringTable } from "./i18n.js";

const S = {
  "vs.creating": { zh: "正在受理办件…", en: "Receiving the case…" },
  "vs.joining": { zh: "正在排队…", en: "Joining the queue…" },
  "vs.waiting": { zh: "排队中：前面还有 {n} 位", en: "In the queue: {n} ahead" },
  "vs.next": { zh: "下一位就是您，请稍候", en: "You are next, please wait" },
  "vs.paired": { zh: "审批人员已接通，正在连接视频…", en: "A reviewer took the call: connecting…" },
  "vs.live": { zh: "视频办理中", en: "In the video session" },
  "vs.ended": { zh: "视频已结束。办件结果将在“帮办代办”中显示。", en: "The session ended. The case's outcome shows under Assisted filing." },
  "vs.left": { zh: "已取消排队。", en: "You left the queue." },
  "vs.linked": { zh: "办件 {number} 已关联到本次视频。", en: "Case {number} is linked to this session." },
  "vs.applicant": { zh: "（申请人 {name}，身份证 {id}）", en: "(applicant {name}, ID {id})" },
  "rec.filed": { zh: "已登记：{item}，积分 +{points}", en: "Filed: {item}, +{points} points" },
  "rec.none": { zh: "还没有登记。", en: "Nothing filed yet." },
  "rec.line": { zh: "{at} {item} · {name}（{id}）", en: "{at} {item} · {name} ({id})" },
  "pt.none": { zh: "本月还没有积分。", en: "No points this month yet." },
  "pt.open": { zh: "未确认", en: "Not confirmed" },
  "pt.confirmed": { zh: "已确认 {at}", en: "Confirmed {at}" },
  "pt.verified": { zh: "签名有效", en: "Signature valid" },
  "pt.broken": { zh: "签名无效：{problem}", en: "Signature invalid: {problem}" },
  "kind.case": { zh: "办件", en: "Case" },
  "kind.record": { zh: "便民事项", en: "Convenience item" },
  "kind.grant": { zh: "手工奖励", en: "Manual grant" },
  "kind.correction": { zh: "更正", en: "Correction" },
  "pt.corrects": { zh: "更正 #{id}", en: "corrects #{id}" },
  "ok.confirmed": { zh: "{month} 已确认并签名。", en: "{month} is confirmed and signed." },
  "ok.granted": { zh: "已奖励 {points} 分。", en: "{points} points granted." },
  "ok.corrected": { zh: "已登记更正（{month}）。", en: "Correction entered ({month})." },
  "ask.reason": { zh: "请填写理由（将记入审计日志）：", en: "The reason (it is audited):" },
  "ask.points": { zh: "更正积分（可为负数）：", en: "Points to add or take away:" },
  "err.applicant_name.required": { zh: "请填写申请人姓名。", en: "Enter the applicant's name." },
  "err.applicant_name.invalid": { zh: "申请人姓名无效（最多 64 个字）。", en: "The name is not valid (at most 64 characters)." },
  "err.applicant_id.invalid": {
    zh: "身份证号码不正确：应为 18 位，最后一位为校验码。",
    en: "The ID number is not valid: 18 characters with its check digit.",
  },
  "err.item.unknown": { zh: "没有这个事项。", en: "No such service." },
  "err.mode.not_allowed": { zh: "该事项不能代办。", en: "This service cannot be filed by an agent." },
  "err.network": { zh: "网络连接失败，请重试。", en: "The network failed; try again." },
  "err.other": { zh: "操作未成功：{message}", en: "That did not work: {message}" },
};

export const strings = stringTable(S);
export const names = strings.names;

/** A refusal of the points or case API: its own Chinese words when it has them. */
export function refused(status, body) {
  if (status === 0) return names("err.network");
  const b = body && typeof body === "object" ? body : {};
  const message = b.message || b.error || `HTTP ${status}`;
  if (b.message_zh) return { zh: b.message_zh, en: message };
  const key = `err.${b.field}.${b.code}`;
  if (strings.has(key)) return names(key);
  return names("err.other", { message });
}
