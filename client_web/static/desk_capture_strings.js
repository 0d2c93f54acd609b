// desk_capture_strings.js — the desk's case and document-camera strings, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  title: { zh: "办件与材料", en: "Case and papers" },
  "doc.video": { zh: "材料画面（高拍仪）", en: "Papers (document camera)" },
  "doc.none": { zh: "对方没有高拍仪画面", en: "No document camera on the other side" },
  "new.name": { zh: "申请人姓名", en: "Applicant's name" },
  "new.id": { zh: "身份证号", en: "ID number" },
  "new.create": { zh: "受理为办件", en: "Receive as a case" },
  "link.number": { zh: "已有办件编号", en: "Existing case number" },
  "link.go": { zh: "关联已有办件", en: "Link an existing case" },
  "case.number": { zh: "办件编号：{number}", en: "Case {number}" },
  "case.applicant": { zh: "申请人：{name}（{id}）", en: "Applicant: {name} ({id})" },
  checklist: { zh: "材料清单", en: "Checklist" },
  captured: { zh: "已拍摄 {n} 页", en: "{n} page(s)" },
  missing: { zh: "缺", en: "missing" },
  page: { zh: "第 {n} 页", en: "page {n}" },
  "page.unreadable": { zh: "第 {n} 页（不清晰）", en: "page {n} (unreadable)" },
  "page.title": { zh: "{material} 第 {n} 页", en: "{material} page {n}" },
  "capture.material": { zh: "拍摄哪份材料", en: "Which paper" },
  capture: { zh: "拍摄", en: "Capture" },
  "capture.busy": { zh: "正在拍摄「{material}」…", en: "Capturing “{material}”…" },
  "capture.done": {
    zh: "「{material}」第 {page} 页已收到（{ms} 毫秒）",
    en: "“{material}” page {page} received ({ms} ms)",
  },
  "capture.timeout": {
    zh: "没有收到照片：请确认窗口的高拍仪已连接，再拍一次。",
    en: "No photo arrived: check the window's document camera and try again.",
  },
  "capture.no_camera": {
    zh: "对方没有高拍仪画面，不能拍摄。",
    en: "The other side has no document camera.",
  },
  "failed.no_camera": {
    zh: "「{material}」没有拍成：窗口没有可用的高拍仪（未选择或未接好）。请窗口工作人员检查高拍仪。",
    en: "“{material}” was not captured: the window has no working document camera (none chosen, or not connected). Ask the window's staff to check it.",
  },
  "failed.camera_failed": {
    zh: "「{material}」没有拍成：高拍仪没有给出照片。请再拍一次；仍不行请检查高拍仪。",
    en: "“{material}” was not captured: the document camera gave no photo. Try again; if it fails again, check the camera.",
  },
  "failed.too_large": {
    zh: "「{material}」的照片太大，服务器没有收下。请调低高拍仪的分辨率后再拍。",
    en: "The photo of “{material}” was too large for the server. Lower the document camera's resolution and capture again.",
  },
  "failed.upload_refused": {
    zh: "「{material}」的照片没有被收下（办件可能已办结，或文件类型不对）。",
    en: "The photo of “{material}” was refused (the case may be closed, or the file type is wrong).",
  },
  "failed.upload_failed": {
    zh: "「{material}」的照片没有传上来（网络或服务器故障）。请再拍一次。",
    en: "The photo of “{material}” did not arrive (network or server failure). Capture again.",
  },
  error: { zh: "操作失败：{message}", en: "Failed: {message}" },
  "error.required": { zh: "请填写申请人姓名和身份证号。", en: "Enter the applicant's name and ID number." },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
