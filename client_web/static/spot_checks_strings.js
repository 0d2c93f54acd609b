// spot_checks_strings.js — the random spot check page (随机抽查), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  none: { zh: "还没有抽查记录。", en: "No draws yet." },
  error: { zh: "操作未成功：{message}", en: "Not done: {message}" },
  drawn: { zh: "已抽取 {week}：{n} 个办件。", en: "Week {week} drawn: {n} cases." },
  "redraw.same": {
    zh: "重抽结果与记录一致（种子 {seed}）。",
    en: "The redraw matches the record (seed {seed}).",
  },
  "redraw.differs": {
    zh: "重抽结果与记录不一致：缺少 {missing}，多出 {extra}。",
    en: "The redraw differs: missing {missing}, extra {extra}.",
  },
  "draw.head": { zh: "{week} · 种子 {seed} · 比例 {share}%", en: "{week} · seed {seed} · share {share}%" },
  "draw.population": { zh: "{department}：{cases} 件中抽 {drawn} 件", en: "{department}: {drawn} of {cases}" },
  "col.number": { zh: "办件编号", en: "Case" },
  "col.department": { zh: "部门", en: "Department" },
  "col.review": { zh: "复核", en: "Review" },
  materials_complete: { zh: "材料齐全", en: "Materials complete" },
  decision_justified: { zh: "决定有据", en: "Decision justified" },
  time_limit_kept: { zh: "按时办结", en: "Time limit kept" },
  conduct: { zh: "办理规范", en: "Conduct" },
  "verdict.pass": { zh: "合格", en: "Pass" },
  "verdict.fail": { zh: "不合格", en: "Fail" },
  note: { zh: "意见", en: "Note" },
  submit: { zh: "提交复核", en: "Submit" },
  reviewed: { zh: "{verdict}（{by}）{note}", en: "{verdict} ({by}) {note}" },
};

export const names = stringTable(S).names;
