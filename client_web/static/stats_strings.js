// stats_strings.js — strings of the statistics page (统计分析), zh-CN first. The
// server renders the Chinese text; elements marked data-s="key" (and
// data-s-args='{"n": 2}') get both languages from here. Table headings, item and
// chart labels come from the server with data-zh/data-en (the exports share them).

import { stringTable } from "./i18n.js";
import { applyPageStrings } from "./page_strings.js";

const S = {
  "stats.title": { zh: "统计分析", en: "Statistics" },
  "stats.period": {
    zh: "受理日期 {from} 至 {to}（{zone} 时间），用时 {ms} 毫秒",
    en: "Received {from} to {to} ({zone} time); computed in {ms} ms",
  },
  "f.from": { zh: "受理日期自", en: "Received from" },
  "f.to": { zh: "至", en: "to" },
  "f.place": { zh: "受理地点", en: "Place" },
  "f.department": { zh: "承办部门", en: "Department" },
  "f.item": { zh: "事项", en: "Service" },
  "f.mode": { zh: "办理方式", en: "Mode" },
  "f.all": { zh: "全部", en: "All" },
  "f.apply": { zh: "统计", en: "Show" },
  "kpi.received": { zh: "受理件数", en: "Received" },
  "kpi.finished": { zh: "办结件数", en: "Finished" },
  "kpi.within_limit": { zh: "按期办结", en: "Within the limit" },
  "kpi.over_limit": { zh: "超期办结", en: "After the limit" },
  "kpi.open_overdue": { zh: "在办已超期", en: "Open past deadline" },
  "kpi.wait_median": { zh: "排队等候中位数（分钟）", en: "Median queue wait (min)" },
  "kpi.wait_p90": { zh: "排队等候第90百分位（分钟）", en: "90th percentile queue wait (min)" },
  "chart.outcomes": { zh: "办理结果与时限", en: "Outcomes and time limits" },
  "chart.hours": { zh: "各时段受理量", en: "Cases received per hour" },
  "chart.township": {
    zh: "乡镇受理需求与县市审批（可下放事项参考）",
    en: "Township demand of items decided at county or city level (candidates to devolve)",
  },
  "err.invalid": {
    zh: "统计条件有误（{field}）：请检查日期格式和起止顺序。",
    en: "Check the filter ({field}): {message}",
  },
  "err.unknown": {
    zh: "统计条件有误（{field}）：没有这个选项。",
    en: "Check the filter ({field}): {message}",
  },
  "download.csv": { zh: "下载 CSV", en: "Download CSV" },
  "download.xlsx": { zh: "下载 Excel（XLSX）", en: "Download Excel (XLSX)" },
  "note.wait": {
    zh: "排队等候时间：本期开始的视频办理场次（按开始日期），自取号至被叫号。",
    en: "Queue wait: the video sessions started in the period (by their start day), from taking a ticket to being called.",
  },
};

const table = stringTable(S);

/** Give every [data-s] element under root its strings, and the title its own. */
export function applyStrings(root = document) {
  applyPageStrings(table, "stats.title", root);
}
