// inspect_strings.js — strings of the mobile inspector's page (云踏勘), zh-CN first.

import { stringTable } from "./i18n.js";

const S = {
  brand: { zh: "云踏勘", en: "Remote site inspection" },
  recording: { zh: "本次踏勘全程录音录像", en: "This inspection is recorded (video and audio)" },
  checking: { zh: "正在核对链接…", en: "Checking the link…" },
  "refused.title": { zh: "链接不能使用", en: "This link cannot be used" },
  "refused.network": { zh: "无法连接服务器，请检查手机网络后刷新。", en: "Cannot reach the server. Check the network and reload." },
  "notice.title": { zh: "云踏勘 · 录音录像告知", en: "Site inspection · recording notice" },
  "notice.case": { zh: "办件 {case}", en: "Case {case}" },
  "notice.body": {
    zh: "本次现场踏勘将全程录音录像，并记录您的位置。画面、声音、位置和拍摄的照片将作为办件证据保存。",
    en: "This site inspection is recorded and your position is logged. Video, sound, positions and the pictures taken are kept as evidence of the case.",
  },
  "notice.camera": { zh: "摄像头（默认使用后置摄像头）", en: "Camera (the rear camera first)" },
  "notice.mic": { zh: "麦克风", en: "Microphone" },
  "notice.location": { zh: "位置信息", en: "Location" },
  "notice.accept": { zh: "我已知晓，同意并开始", en: "I understand: start" },
  "state.connecting": { zh: "正在接通审批人员…", en: "Connecting to the reviewer…" },
  "state.connected": { zh: "已接通，请按审批人员的指引拍摄现场", en: "Connected: show the site as the reviewer asks" },
  "state.reconnecting": { zh: "网络中断，正在重新连接…", en: "The connection dropped; reconnecting…" },
  "position.waiting": { zh: "正在获取位置…", en: "Getting the position…" },
  "position.denied": { zh: "未获得位置权限，请在浏览器设置中允许定位。", en: "Location was not allowed; allow it in the browser settings." },
  "position.fix": { zh: "位置 {lat}, {lon}（精度约 {acc} 米）", en: "Position {lat}, {lon} (about {acc} m)" },
  "position.refused": { zh: "位置未被接受：{message}", en: "Position refused: {message}" },
  switch: { zh: "切换前后摄像头", en: "Switch camera" },
  point: { zh: "踏勘要点", en: "Inspection point" },
  "point.none": { zh: "（不指定）", en: "(none)" },
  capture: { zh: "拍照取证", en: "Take an evidence picture" },
  leave: { zh: "结束踏勘", en: "End the inspection" },
  "evidence.taking": { zh: "正在拍照并上传…", en: "Taking and uploading the picture…" },
  "evidence.stored": { zh: "照片 {n} 已保存为证据", en: "Picture {n} is stored as evidence" },
  "evidence.failed": { zh: "照片没有保存：{message}", en: "The picture was not stored: {message}" },
  "evidence.no_camera": { zh: "没有可用的摄像头，无法拍照。", en: "No camera is available." },
  "weak.offer": { zh: "网络信号较弱，视频可能卡顿。", en: "The network is weak; video may stall." },
  "weak.accept": { zh: "改为仅语音＋定时拍照", en: "Switch to audio with a picture every few seconds" },
  "mode.weak": { zh: "仅语音模式：每 {n} 秒自动拍一张照片", en: "Audio only: a picture every {n} s" },
  "mode.video": { zh: "恢复视频", en: "Back to video" },
  "ended.title": { zh: "踏勘已结束", en: "The inspection has ended" },
  "ended.body": { zh: "感谢您的配合，可以关闭本页面。", en: "Thank you. You may close this page." },
  "no_media": { zh: "无法打开摄像头或麦克风：{what}", en: "Camera or microphone unavailable: {what}" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled. */
export const L = table.names;
