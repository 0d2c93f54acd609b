// account_strings.js — strings of the account page (账户安全), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  "pw.mismatch": { zh: "两次输入的新密码不一致。", en: "The two new passwords differ." },
  "pw.done": { zh: "密码已修改。", en: "Password changed." },
  "pw.too_short": { zh: "密码太短：至少 {n} 位。", en: "Too short: at least {n} characters." },
  "pw.too_long": { zh: "密码太长。", en: "Too long." },
  "pw.classes": {
    zh: "至少包含大写字母、小写字母、数字、其他字符中的 {n} 类。",
    en: "Use at least {n} of: upper case, lower case, digits, other characters.",
  },
  "pw.username": { zh: "密码不能包含用户名。", en: "The password may not contain the username." },
  "pw.reused": {
    zh: "不能与最近 {n} 次使用过的密码相同。",
    en: "It may not be one of the last {n} passwords.",
  },
  "pw.wrong": { zh: "当前密码不正确。", en: "The current password is wrong." },
  "pw.required": { zh: "请填写所有字段。", en: "Fill in every field." },
  failed: { zh: "操作失败，请稍后再试。", en: "That did not work; try again later." },
  "totp.wrong": {
    zh: "口令不正确或已过期，请重新输入。",
    en: "The code is wrong or expired; try the next one.",
  },
  "totp.done": { zh: "动态口令已绑定。", en: "The second factor is enrolled." },
};

const table = stringTable(S);
export const names = table.names;
