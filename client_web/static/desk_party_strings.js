// desk_party_strings.js — strings of the N-party controls (视频会商), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  title: { zh: "邀请同事", en: "Invite a colleague" },
  account: { zh: "同事账号", en: "Colleague's account" },
  invite: { zh: "邀请同事", en: "Invite" },
  "account.empty": { zh: "请输入同事的账号", en: "Enter the colleague's account" },
  ringing: { zh: "{name}邀请您参加视频会商（{item}）", en: "{name} invites you to a consultation ({item})" },
  accept: { zh: "接受", en: "Accept" },
  decline: { zh: "谢绝", en: "Decline" },
  leave: { zh: "退出会商", en: "Leave the consultation" },
  "party.applicant": { zh: "申请人", en: "Applicant" },
  "party.reviewer": { zh: "审批人员", en: "Reviewer" },
  "party.colleague": { zh: "会商同事", en: "Colleague" },
  "party.inspector": { zh: "踏勘人员", en: "Inspector" },
  "party.observer": { zh: "监管观看", en: "Observer" },
  "link.connecting": { zh: "正在连接", en: "connecting" },
  "link.reconnecting": { zh: "正在重连", en: "reconnecting" },
  "link.waiting": { zh: "等待接入", en: "waiting" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
