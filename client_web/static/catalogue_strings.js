// catalogue_strings.js — strings of the public catalogue page (事项清单公开),
// zh-CN first; elements marked data-s="key" get both languages from here.

import { stringTable } from "./i18n.js";
import { applyPageStrings } from "./page_strings.js";

const S = {
  "cat.title": { zh: "政务服务事项清单", en: "Government services catalogue" },
  "cat.lead": {
    zh: "以下事项可在就近的便民服务点通过“远程虚拟窗口”办理。本清单同时以 JSON 格式公开：",
    en: "These services can be applied for at a nearby service point through the virtual remote window. The list is also published as JSON:",
  },
  "cat.item": { zh: "事项", en: "Service" },
  "cat.department": { zh: "承办部门", en: "Department" },
  "cat.where": { zh: "可办理地点", en: "Where to apply" },
  "cat.modes": { zh: "办理方式", en: "Modes" },
  "cat.materials": { zh: "申请材料", en: "Materials" },
  "cat.limit": { zh: "承诺时限", en: "Time limit" },
  "cat.days": { zh: "{n} 个工作日", en: "{n} working days" },
  "cat.places": { zh: "服务地点与时间", en: "Service points and hours" },
  "cat.place": { zh: "地点", en: "Place" },
  "cat.level": { zh: "层级", en: "Level" },
  "cat.hours": { zh: "服务时间", en: "Hours" },
};

const table = stringTable(S);

/** Give every [data-s] element under root its strings, and the title its own. */
export function applyStrings(root = document) {
  applyPageStrings(table, "cat.title", root);
}
