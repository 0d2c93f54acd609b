// desk_inspect_strings.js — strings of 云踏勘 on the reviewer's desk, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  title: { zh: "云踏勘", en: "Remote site inspection" },
  name: { zh: "踏勘人员姓名", en: "Inspector's name" },
  invite: { zh: "邀请踏勘人员", en: "Invite an inspector" },
  invited: { zh: "已生成踏勘链接：请让踏勘人员用手机扫码或打开链接", en: "Link ready: the inspector scans the code or opens the link" },
  expires: { zh: "链接 {n} 分钟内有效，仅限一部手机使用", en: "Valid for {n} minutes, on one phone" },
  "copy.link": { zh: "复制链接", en: "Copy the link" },
  "copy.sms": { zh: "复制短信", en: "Copy the SMS text" },
  copied: { zh: "已复制", en: "Copied" },
  "copy.failed": { zh: "无法复制，请手动选择文字", en: "Could not copy: select the text by hand" },
  sms: { zh: "短信内容", en: "SMS text" },
  position: { zh: "踏勘人员位置", en: "Inspector's position" },
  "position.none": { zh: "尚无位置", en: "No position yet" },
  point: { zh: "踏勘要点", en: "Point" },
  capture: { zh: "远程拍照取证", en: "Take an evidence picture" },
  capturing: { zh: "正在请踏勘人员手机拍照…", en: "Asking the inspector's phone for a picture…" },
  stored: { zh: "证据照片 {n} 已保存", en: "Evidence picture {n} stored" },
  evidence: { zh: "证据照片", en: "Evidence pictures" },
  checklist: { zh: "踏勘清单", en: "Inspection checklist" },
  tick: { zh: "用此照片勾选", en: "Tick with this picture" },
  checked: { zh: "✓ 已核查（照片 {n}）", en: "✓ Checked (picture {n})" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
