// supervision_strings.js — the supervisors' live dashboard (监督看板), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  connecting: { zh: "正在连接…", en: "Connecting…" },
  live: { zh: "实时更新 · {time}", en: "Live · {time}" },
  reconnecting: { zh: "连接中断，正在重新连接…（显示的是 {time} 的情况）", en: "Connection lost, reconnecting… (showing {time})" },
  readonly: { zh: "只读：{time} 的情况，刷新页面以更新", en: "Read-only: as of {time}; reload to update" },
  failed: { zh: "无法读取看板数据：{message}", en: "Cannot read the dashboard: {message}" },
  none: { zh: "暂无", en: "None" },
  nobodyWaiting: { zh: "无人等候", en: "Nobody waiting" },
  seconds: { zh: "{s}秒", en: "{s}s" },
  minutes: { zh: "{m}分{s}秒", en: "{m}m {s}s" },
  hours: { zh: "{h}小时{m}分", en: "{h}h {m}m" },
  days: { zh: "{n}个工作日", en: "{n} working days" },
  today: { zh: "今日到期", en: "Due today" },
  overdueBy: { zh: "超期{n}个工作日", en: "{n} working days over" },
  "state.called": { zh: "已叫号", en: "Called" },
  "state.connecting": { zh: "连接中", en: "Connecting" },
  "state.live": { zh: "办理中", en: "Live" },
  "state.reconnecting": { zh: "重新连接中", en: "Reconnecting" },
  observe: { zh: "旁听", en: "Observe" },
  unobserve: { zh: "结束旁听", en: "Stop observing" },
  observeNoMedia: {
    zh: "正在旁听（只收不发，已记入审计）。",
    en: "Observing (receive only, audited).",
  },
  "player.title": { zh: "旁听画面", en: "Observed session" },
  "player.waiting": { zh: "正在接收画面…", en: "Receiving video…" },
  "party.applicant": { zh: "申请人", en: "Applicant" },
  "party.reviewer": { zh: "审批人员", en: "Reviewer" },
  "party.colleague": { zh: "会商同事", en: "Colleague" },
  "party.inspector": { zh: "踏勘人员", en: "Inspector" },
  "party.document": { zh: "材料画面", en: "Document camera" },
  refused: { zh: "未能旁听：{message}", en: "Cannot observe: {message}" },
  "role.kiosk": { zh: "自助终端", en: "Kiosk" },
  "role.agent": { zh: "帮办代办", en: "Agent" },
};

const table = stringTable(S);
export const names = table.names;
