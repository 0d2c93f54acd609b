// idle_strings.js — the idle-timeout warning shown on every staff page, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  warning: {
    zh: "长时间未操作，将在 {n} 秒后自动退出登录。",
    en: "No activity for a while: you will be signed out in {n} seconds.",
  },
  stay: { zh: "保持登录", en: "Stay signed in" },
};

const table = stringTable(S);
export const names = table.names;
