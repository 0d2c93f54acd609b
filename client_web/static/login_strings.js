// login_strings.js — sign-in strings beyond i18n.js's (the second factor), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  totp_required: {
    zh: "请输入身份验证器应用中的 6 位动态口令。",
    en: "Enter the 6-digit code from your authenticator app.",
  },
  bad_totp: { zh: "动态口令不正确，请重新输入。", en: "Wrong code; try again." },
};

export const names = stringTable(S).names;
