// replay_strings.js — the replay page's strings, zh-CN first.

import { stringTable } from "./i18n.js";

// (i18n.js's dictionary is not extensible, so this page keeps its own.)
const S = {
  "status.error": { zh: "无法加载案卷（{status}）。", en: "Could not load the case ({status})." },
  "status.not_found": { zh: "没有找到这个案卷。", en: "This case was not found." },
  "status.forbidden": {
    zh: "您没有权限查看这个案卷：只有监管人员和办理该案件的审批人员可以查看。",
    en: "You may not view this case: only supervisors and the reviewer who handled it can.",
  },
  "status.unsigned": {
    zh: "这个案卷没有有效签名（未签名），可能被伪造或已损坏，不能回放。请联系系统管理员核查。",
    en: "This case has no valid signature (unsigned): it may be forged or damaged and cannot be replayed. Ask the system administrator to check it.",
  },
  play: { zh: "播放", en: "Play" },
  "lane.document": { zh: "高拍仪", en: "Document camera" },
  pause: { zh: "暂停", en: "Pause" },
  seek: { zh: "回放进度", en: "Playback position" },
  "fact.item": { zh: "办理事项", en: "Service" },
  "fact.place": { zh: "办理地点", en: "Place" },
  "fact.reviewer": { zh: "审批人员", en: "Reviewer" },
  "fact.started": { zh: "开始时间", en: "Started" },
  "fact.duration": { zh: "时长", en: "Duration" },
  "fact.outcome": { zh: "办理结果", en: "Outcome" },
  "fact.queue": { zh: "排队等候", en: "Queue wait" },
  "integrity.ok": {
    zh: "✔ 案卷签名有效，审计链完整",
    en: "✔ Signature valid, audit chain intact",
  },
  "integrity.bad": {
    zh: "✘ 案卷校验未通过：{what}",
    en: "✘ Case failed verification: {what}",
  },
  "integrity.signature": { zh: "签名不符", en: "signature does not match" },
  "integrity.extra": { zh: "封存后出现非查阅事件", en: "non-access events after sealing" },
  "role.kiosk": { zh: "申请人（自助终端）", en: "Applicant (kiosk)" },
  "role.reviewer": { zh: "审批人员", en: "Reviewer" },
  "role.agent": { zh: "帮办代办员", en: "Assisting agent" },
  "role.supervisor": { zh: "监管人员", en: "Supervisor" },
  "player.none": { zh: "此时段无画面", en: "No picture at this time" },
  "player.gap": { zh: "连接中断，等待重新接入", en: "Disconnected; waiting for the rejoin" },
  "player.before": { zh: "尚未接入", en: "Not joined yet" },
  "player.after": { zh: "已离开", en: "Left" },
  "player.segment": { zh: "第 {n} 段", en: "Segment {n}" },
  "player.mute": { zh: "静音", en: "Mute" },
  "player.unmute": { zh: "取消静音", en: "Unmute" },
  "lane.events": { zh: "事件", en: "Events" },
  "gap.title": { zh: "中断 {s} 秒", en: "Gap of {s} s" },
  "files.download": { zh: "查看", en: "Open" },
  "access.none": { zh: "（暂无记录）", en: "(none yet)" },
  "access.file": { zh: "文件 {file}", en: "file {file}" },
  "ev.archive.opened": { zh: "案卷建立", en: "Case folder opened" },
  "ev.archive.finalized": { zh: "案卷封存（签名）", en: "Case sealed (signed)" },
  "ev.archive.recovered": { zh: "中断后恢复封存", en: "Recovered after an interruption" },
  "ev.recovered": { zh: "中断后恢复封存", en: "Recovered after an interruption" },
  "recovered.detail": {
    zh: "录制进程未封存案卷即结束，重启后补封",
    en: "The recording process ended before sealing; sealed at the next start",
  },
  "opened.priority": { zh: "优先办理", en: "priority" },
  "ev.session.created": { zh: "叫号，会话建立", en: "Called; session created" },
  "ev.session.state": { zh: "会话状态变化", en: "Session state" },
  "ev.recording.notice_shown": { zh: "已告知全程录音录像", en: "Recording notice shown" },
  "ev.participant.joined": { zh: "接入", en: "Joined" },
  "ev.participant.left": { zh: "离开", en: "Left" },
  "ev.participant.dropped": { zh: "掉线", en: "Dropped" },
  "ev.media.state": { zh: "摄像头/麦克风状态", en: "Camera / microphone" },
  "ev.segment.opened": { zh: "开始录制", en: "Recording started" },
  "ev.segment.closed": { zh: "结束录制", en: "Recording stopped" },
  "ev.document.stored": { zh: "材料拍照", en: "Document photographed" },
  "ev.evidence.stored": { zh: "现场取证", en: "Evidence captured" },
  "ev.access.viewed": { zh: "查看案卷", en: "Case viewed" },
  "ev.access.downloaded": { zh: "下载文件", en: "File downloaded" },
  "state.called": { zh: "已叫号", en: "called" },
  "state.connecting": { zh: "接通中", en: "connecting" },
  "state.live": { zh: "通话中", en: "live" },
  "state.reconnecting": { zh: "重新连接中", en: "reconnecting" },
  "state.ended": { zh: "已结束", en: "ended" },
  "reason.offer": { zh: "开始接通", en: "connecting" },
  "reason.both connected": { zh: "双方已接通", en: "both connected" },
  "reason.link": { zh: "{role}{link}", en: "{role}: {link}" },
  "link.failed": { zh: "连接失败", en: "connection failed" },
  "link.closed": { zh: "连接断开", en: "connection closed" },
  "kind.video": { zh: "视频", en: "video" },
  "kind.audio": { zh: "音频", en: "audio" },
  on: { zh: "开", en: "on" },
  off: { zh: "关", en: "off" },
  camera: { zh: "摄像头", en: "camera" },
  mic: { zh: "麦克风", en: "microphone" },
};

const table = stringTable(S);

/** {zh, en} for a key of S, placeholders filled (values may be {zh, en} too). */
export const L = table.names;

/** Whether the page has a string for this key. */
export const has = table.has;
