// kiosk_rating_strings.js — strings of the kiosk's rating screen (好差评), zh-CN first.
// Level and reason names come from the server (GET /api/ratings/options).

import { stringTable } from "./i18n.js";

const S = {
  "rating.title": { zh: "请对本次服务进行评价", en: "Please rate this service" },
  "rating.lead": {
    zh: "评价是自愿的，可以跳过。",
    en: "Rating is voluntary; you may skip it.",
  },
  "rating.speak": {
    zh: "请您对本次服务进行评价，点击屏幕上的按钮；也可以跳过。",
    en: "Please rate this service by touching a button on the screen, or skip.",
  },
  "rating.reasons": { zh: "请选择不满意的原因（可多选）：", en: "What went wrong? (any number)" },
  "rating.send": { zh: "提交评价", en: "Send" },
  "rating.skip": { zh: "跳过", en: "Skip" },
  "rating.thanks": { zh: "感谢您的评价！", en: "Thank you for your rating!" },
};

export const names = stringTable(S).names;
