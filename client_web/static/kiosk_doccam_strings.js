// kiosk_doccam_strings.js — the kiosk's document-camera strings, zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  "settings.open": { zh: "设备设置", en: "Device settings" },
  "settings.title": { zh: "高拍仪设置（工作人员使用）", en: "Document camera (staff only)" },
  "settings.hint": {
    zh: "选择用来拍摄材料的摄像头（高拍仪）。本机会记住这个选择。",
    en: "Choose the camera that photographs papers (document camera). This kiosk remembers it.",
  },
  "settings.none": { zh: "不使用高拍仪", en: "No document camera" },
  "settings.camera": { zh: "摄像头 {n}", en: "Camera {n}" },
  "settings.save": { zh: "保存", en: "Save" },
  "settings.cancel": { zh: "取消", en: "Cancel" },
  "settings.saved": { zh: "已保存：{name}", en: "Saved: {name}" },
  "settings.empty": { zh: "没有找到摄像头。", en: "No camera was found." },
  "panel.title": { zh: "材料画面（高拍仪）", en: "Papers (document camera)" },
  "panel.place": {
    zh: "请把材料平放在高拍仪下面，文字朝上。",
    en: "Lay the paper flat under the document camera, text up.",
  },
  "panel.case": { zh: "办件编号：{case}", en: "Case number: {case}" },
  "panel.capture": { zh: "拍摄：{material}", en: "Photograph: {material}" },
  taking: {
    zh: "正在拍摄「{material}」，请不要移动材料…",
    en: "Photographing “{material}”. Please do not move the paper…",
  },
  "speak.taking": { zh: "正在拍摄，请不要移动材料。", en: "Taking the photo. Please keep still." },
  stored: {
    zh: "「{material}」第 {page} 页已拍好。",
    en: "“{material}” page {page} is done.",
  },
  failed: {
    zh: "拍摄没有成功，请再试一次，或告诉工作人员。",
    en: "The photo did not work. Please try again or ask the staff.",
  },
  "no_camera": {
    zh: "这台终端还没有设置高拍仪，请告诉工作人员。",
    en: "This kiosk has no document camera set up. Please ask the staff.",
  },
  recapture: {
    zh: "审批人员看不清「{material}」第 {page} 页（{reason}）。请把这一页重新放好，再拍一次。",
    en: "The reviewer cannot read “{material}” page {page} ({reason}). Please lay that page again and take it once more.",
  },
  "speak.recapture": {
    zh: "审批人员看不清这一页材料，请重新放好，再拍一次。",
    en: "The reviewer cannot read this page. Please lay it again and take it once more.",
  },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
