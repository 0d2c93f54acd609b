// i18n.js — UI strings (zh-CN first, English) and the language switch.
//
// Markup:
//   data-i18n="key"            textContent from the dictionary
//   data-i18n-args='{"n":3}'   values for {n} placeholders in that string
//   data-i18n-attr="placeholder:key;aria-label:key2"   attributes from the dictionary
//   data-zh="…" data-en="…"    data-driven names (catalogue items, places)
//   data-lang-switch            a button that toggles the language
// The choice is remembered in localStorage and in the cookie `rw_lang`
// (so the server renders <html lang> right on the next page load).

const STORE_KEY = "rw_lang";
export const LANGS = ["zh-CN", "en"];

const DICT = {
  "zh-CN": {
    "app.title": "远程虚拟窗口",
    "app.subtitle": "政务服务“远程虚拟窗口”",
    "lang.switch": "English",
    "lang.switch.aria": "Switch to English",

    "common.back": "返回上一步",
    "common.logout": "退出登录",
    "common.minutes": "{n} 分钟",
    "common.seconds": "{n} 秒",
    "common.min_sec": "{m} 分 {s} 秒",
    "common.error": "出错了：{message}",
    "common.net.reconnecting": "网络连接中断，正在重新连接…",
    "common.net.offline": "正在连接服务器…",
    "common.yes": "是",
    "common.no": "否",

    "index.title": "远程虚拟窗口",
    "index.lead": "群众在乡镇就近“面对面”，县市审批人员远程办理。",
    "index.kiosk": "自助终端（群众办事）",
    "index.kiosk.desc": "选择事项、排队、与审批人员视频办理。需要本机的设备令牌。",
    "index.desk": "审批人员工作台",
    "index.desk.desc": "查看排队情况、叫号、视频审核。",
    "index.admin": "系统管理",
    "index.admin.desc": "账户与终端设备。",
    "index.login": "工作人员登录",

    "login.title": "工作人员登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.bad": "用户名或密码不正确。",
    "login.locked": "登录失败次数过多，账户已暂时锁定，请 {n} 分钟后再试。",
    "login.failed": "登录失败，请稍后再试。",
    "login.throttled": "本机登录尝试过于频繁，请 {n} 分钟后再试。",

    "kiosk.title": "远程虚拟窗口 · 自助办理",
    "kiosk.unregistered.title": "本机尚未登记",
    "kiosk.unregistered.body": "这台终端还不能使用。请联系现场工作人员。",
    "kiosk.step1.title": "第一步：请选择您要办理的事项",
    "kiosk.step1.hint": "用手指点一下要办的事项。",
    "kiosk.page": "第 {n} 页，共 {total} 页",
    "kiosk.page.prev": "上一页",
    "kiosk.page.next": "下一页",
    "kiosk.step2.title": "第二步：您是否属于优先办理人群？",
    "kiosk.step2.hint": "属于以下情况的，可以优先办理。",
    "kiosk.priority.normal": "不是，正常排队",
    "kiosk.step3.title": "第三步：请注意",
    "kiosk.notice": "本次办理全程录音录像",
    "kiosk.notice.body": "为保障您的权益，办理过程中的声音和画面会被录下并保存。",
    "kiosk.notice.confirm": "我知道了，开始排队",
    "kiosk.chosen": "您要办理：{item}",
    "kiosk.waiting.title": "正在排队，请稍候",
    "kiosk.waiting.joining": "正在为您取号…",
    "kiosk.waiting.place": "您排在第",
    "kiosk.waiting.place.unit": "位",
    "kiosk.waiting.ahead": "前面还有 {n} 人",
    "kiosk.waiting.next": "前面没有人了，下一位就是您",
    "kiosk.waiting.estimate": "预计等待约 {n} 分钟",
    "kiosk.waiting.away": "网络中断过，您的位置已为您保留。",
    "kiosk.waiting.called": "轮到您了，正在为您接通…",
    "kiosk.waiting.number": "您的号码：{number}",
    "kiosk.waiting.offline": "目前没有审批人员在线，暂时无法估计等待时间。",
    "kiosk.waiting.offline.hours": "目前没有审批人员在线，暂时无法估计等待时间。服务时间：{hours}",
    "kiosk.waiting.closed": "现在不是服务时间，没有审批人员在线。服务时间：{hours}",
    "kiosk.speak.queued.number": "已为您取号，{number} 号，前面还有 {n} 人",
    "kiosk.requeued": "审批人员连接中断，正在为您重新排队，您仍排在最前面。",
    "kiosk.requeued.behind": "审批人员连接中断，已为您重新排队，您现在排在第 {n} 位。",
    "kiosk.requeued.server": "通话因服务器故障中断，这不是您的问题。正在为您重新排队，您仍排在最前面。",
    "kiosk.requeued.server.behind": "通话因服务器故障中断，这不是您的问题。已为您重新排队，您现在排在第 {n} 位。",
    "kiosk.waiting.preview": "这是您的画面，请坐在屏幕正前方。",
    "kiosk.leave": "不办了，离开队伍",
    "kiosk.leave.confirm": "确定要离开队伍吗？",
    "kiosk.leave.yes": "确定离开",
    "kiosk.leave.no": "继续等候",
    "kiosk.left.expired": "您离开的时间太长，排队已取消。如需办理，请重新选择。",
    "kiosk.call.reviewer": "审批人员",
    "kiosk.call.me": "我",
    "kiosk.call.mute": "关闭麦克风",
    "kiosk.call.unmute": "打开麦克风",
    "kiosk.call.camera_off": "关闭摄像头",
    "kiosk.call.camera_on": "打开摄像头",
    "kiosk.call.end": "结束办理",
    "kiosk.call.end.confirm": "确定要结束这次办理吗？",
    "kiosk.call.end.yes": "确定结束",
    "kiosk.call.end.no": "继续办理",
    "kiosk.ended.title": "办理结束，谢谢您！",
    "kiosk.ended.body": "请带好您的证件和材料。",
    "kiosk.ended.lost.title": "通话已中断",
    "kiosk.ended.lost": "如需继续办理，请重新排队。",
    "kiosk.ended.again": "返回首页",
    "kiosk.speak.choose": "请选择您要办理的事项",
    "kiosk.speak.priority": "请选择是否优先办理",
    "kiosk.speak.notice": "请注意，本次办理全程录音录像",
    "kiosk.speak.queued": "已为您排队，前面还有 {n} 人",
    "kiosk.speak.turn": "轮到您了，正在为您接通工作人员",
    "kiosk.speak.connected": "已接通，请对着屏幕说话",
    "kiosk.speak.ended": "办理结束，谢谢您",

    "media.none": "摄像头和麦克风都没有打开",
    "media.none.more": "您仍然可以排队，也能看到、听到工作人员。需要帮助请找现场工作人员。",
    "media.no_video": "摄像头没有打开",
    "media.no_video.more": "工作人员看不到您，但能听到您说话。",
    "media.no_audio": "麦克风没有打开",
    "media.no_audio.more": "工作人员听不到您说话，但能看到您。",
    "media.denied": "（没有得到使用摄像头或麦克风的许可。）",
    "media.missing": "（没有找到摄像头或麦克风。）",
    "media.busy": "（摄像头或麦克风正被其他程序占用。）",

    "call.state.connecting": "正在接通，请稍候…",
    "call.state.connected": "已接通",
    "call.state.reconnecting": "网络不稳定，正在重新连接，请稍候…",
    "call.state.media_failed": "视频连接失败，正在重试…",
    "call.peer.no_video": "对方的摄像头已关闭",
    "call.peer.no_audio": "对方的麦克风已关闭",
    "call.peer.no_media": "对方的摄像头和麦克风都已关闭",
    "call.sound.blocked": "点这里开启声音",

    "desk.title": "审批工作台",
    "desk.signed_in": "{name}（{place}）",
    "desk.queues": "我的排队事项",
    "desk.col.item": "事项",
    "desk.col.waiting": "等候人数",
    "desk.col.priority": "其中优先",
    "desk.col.away": "暂离",
    "desk.col.longest": "最长等候",
    "desk.total": "共 {n} 人等候",
    "desk.none": "暂无等候",
    "desk.call_next": "叫号",
    "desk.calling": "正在叫号…",
    "desk.nobody": "当前没有人在排队。",
    "desk.finish_first": "请先结束当前办理。",
    "desk.applicant": "申请人",
    "desk.applicant.unknown": "尚未识别",
    "desk.number": "号码",
    "desk.window": "窗口",
    "desk.agent": "帮办代办员",
    "desk.item": "办理事项",
    "desk.place": "所在地点",
    "desk.department": "承办部门",
    "desk.materials": "所需材料",
    "desk.self": "我的画面",
    "desk.mute": "静音",
    "desk.unmute": "取消静音",
    "desk.camera_off": "关闭摄像头",
    "desk.camera_on": "打开摄像头",
    "desk.end": "办结并结束通话",
    "desk.ended": "上一位办理已结束（{outcome}）。",
    "desk.waiting_others": "另有 {n} 人在等候",
    "desk.quality": "连接质量",
    "desk.quality.good": "良好",
    "desk.quality.fair": "一般",
    "desk.quality.poor": "较差",
    "desk.quality.none": "无数据",
    "desk.quality.detail": "丢包 {loss} · 延迟 {rtt} · {fps} 帧/秒",

    "outcome.completed": "已办结",
    "outcome.incomplete": "未办结",
    "outcome.cancelled": "已取消",
    "outcome.reviewer_left": "审批人员离开",
    "outcome.kiosk_lost": "申请人网络中断",
    "outcome.agent_lost": "代办员网络中断",
    "outcome.reviewer_lost": "审批人员网络中断",
    "outcome.server_shutdown": "服务器维护",
    "outcome.server_lost": "服务器中断",

    "admin.title": "系统管理",
    "admin.users": "账户",
    "admin.kiosks": "自助终端",
    "admin.col.username": "用户名",
    "admin.col.name": "姓名",
    "admin.col.role": "角色",
    "admin.col.items": "事项",
    "admin.col.place": "地点",
    "admin.col.status": "状态",
    "admin.col.kiosk_id": "编号",
    "admin.col.kiosk_name": "名称",
    "admin.enabled": "正常",
    "admin.disabled": "已停用",
    "admin.add": "添加账户",
    "admin.add.username": "用户名",
    "admin.add.display_name": "姓名（可不填）",
    "admin.add.password": "初始密码（至少 12 位，首次登录须修改）",
    "admin.add.role": "角色",
    "admin.add.items": "负责事项（审批人员必选）",
    "admin.add.place": "所在地点（代办员必选）",
    "admin.add.place.none": "（不指定）",
    "admin.add.submit": "添加",
    "admin.add.ok": "已添加账户 {username}。",
    "admin.add.failed": "添加失败：{message}",
    "role.reviewer": "审批人员",
    "role.supervisor": "监管人员",
    "role.agent": "帮办代办员",
    "role.township_admin": "乡镇管理员",
    "role.sysadmin": "系统管理员",
    "role.secadmin": "安全管理员",
    "role.auditadmin": "审计管理员",

    "error.not_found": "没有找到。",
    "error.wrong_state": "现在不能这样操作。",
    "error.rate_limited": "操作太快了，请稍候。",
    "error.media_failed": "视频连接失败，正在重试。",
    "error.internal": "服务器出错了，请稍后再试。",
  },
  en: {
    "app.title": "Virtual Remote Window",
    "app.subtitle": "Government services: virtual remote window",
    "lang.switch": "中文",
    "lang.switch.aria": "切换到中文",

    "common.back": "Back",
    "common.logout": "Sign out",
    "common.minutes": "{n} min",
    "common.seconds": "{n} s",
    "common.min_sec": "{m} min {s} s",
    "common.error": "Something went wrong: {message}",
    "common.net.reconnecting": "Connection lost. Reconnecting…",
    "common.net.offline": "Connecting to the server…",
    "common.yes": "Yes",
    "common.no": "No",

    "index.title": "Virtual Remote Window",
    "index.lead": "Applicants stay at their township centre; county and city staff handle the matter by video.",
    "index.kiosk": "Kiosk (applicants)",
    "index.kiosk.desc": "Choose a service, wait in line, talk to the reviewer. Needs this device's token.",
    "index.desk": "Reviewer desk",
    "index.desk.desc": "Queues, call next, video review.",
    "index.admin": "Administration",
    "index.admin.desc": "Accounts and kiosk devices.",
    "index.login": "Staff sign-in",

    "login.title": "Staff sign-in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.bad": "Wrong username or password.",
    "login.locked": "Too many failed attempts. The account is locked; try again in {n} minutes.",
    "login.failed": "Sign-in failed. Please try again later.",
    "login.throttled": "Too many sign-in attempts from this address; try again in {n} minutes.",

    "kiosk.title": "Virtual Remote Window · Self-service",
    "kiosk.unregistered.title": "This kiosk is not registered",
    "kiosk.unregistered.body": "This device cannot be used yet. Please ask the staff here.",
    "kiosk.step1.title": "Step 1: What do you need to do?",
    "kiosk.step1.hint": "Touch the service you need.",
    "kiosk.page": "Page {n} of {total}",
    "kiosk.page.prev": "Previous page",
    "kiosk.page.next": "Next page",
    "kiosk.step2.title": "Step 2: Do you qualify for priority service?",
    "kiosk.step2.hint": "People in these groups are served first.",
    "kiosk.priority.normal": "No, normal queue",
    "kiosk.step3.title": "Step 3: Please note",
    "kiosk.notice": "This session is recorded (audio and video)",
    "kiosk.notice.body": "To protect your rights, the sound and picture of this session are recorded and kept.",
    "kiosk.notice.confirm": "I understand, join the queue",
    "kiosk.chosen": "Your service: {item}",
    "kiosk.waiting.title": "You are in the queue, please wait",
    "kiosk.waiting.joining": "Getting your number…",
    "kiosk.waiting.place": "Your place in line",
    "kiosk.waiting.place.unit": "",
    "kiosk.waiting.ahead": "{n} people ahead of you",
    "kiosk.waiting.next": "You are next",
    "kiosk.waiting.estimate": "Estimated wait: about {n} minutes",
    "kiosk.waiting.away": "The connection dropped; your place was kept.",
    "kiosk.waiting.called": "It is your turn. Connecting…",
    "kiosk.waiting.number": "Your number: {number}",
    "kiosk.waiting.offline": "No reviewer is online right now, so the wait cannot be estimated.",
    "kiosk.waiting.offline.hours": "No reviewer is online right now, so the wait cannot be estimated. Service hours: {hours}",
    "kiosk.waiting.closed": "It is outside service hours; no reviewer is online. Service hours: {hours}",
    "kiosk.speak.queued.number": "You have number {number}. {n} people ahead of you",
    "kiosk.requeued": "The reviewer's connection was lost. You are back in the queue, still first in line.",
    "kiosk.requeued.behind": "The reviewer's connection was lost. You are back in the queue, number {n} in line.",
    "kiosk.requeued.server": "The call stopped because of a server fault, not anything you did. You are back in the queue, still first in line.",
    "kiosk.requeued.server.behind": "The call stopped because of a server fault, not anything you did. You are back in the queue, number {n} in line.",
    "kiosk.waiting.preview": "This is you on camera. Please sit in front of the screen.",
    "kiosk.leave": "Leave the queue",
    "kiosk.leave.confirm": "Do you really want to leave the queue?",
    "kiosk.leave.yes": "Yes, leave",
    "kiosk.leave.no": "Keep waiting",
    "kiosk.left.expired": "You were away too long and your place was released. Please choose again.",
    "kiosk.call.reviewer": "Reviewer",
    "kiosk.call.me": "You",
    "kiosk.call.mute": "Microphone off",
    "kiosk.call.unmute": "Microphone on",
    "kiosk.call.camera_off": "Camera off",
    "kiosk.call.camera_on": "Camera on",
    "kiosk.call.end": "End",
    "kiosk.call.end.confirm": "Do you want to end this session?",
    "kiosk.call.end.yes": "Yes, end",
    "kiosk.call.end.no": "Continue",
    "kiosk.ended.title": "Finished. Thank you!",
    "kiosk.ended.body": "Please take your documents with you.",
    "kiosk.ended.lost.title": "The call was interrupted",
    "kiosk.ended.lost": "To continue, please join the queue again.",
    "kiosk.ended.again": "Back to start",
    "kiosk.speak.choose": "Please choose the service you need",
    "kiosk.speak.priority": "Please choose whether you qualify for priority service",
    "kiosk.speak.notice": "Please note: this session is recorded",
    "kiosk.speak.queued": "You are in the queue. {n} people ahead of you",
    "kiosk.speak.turn": "It is your turn. Connecting you to the reviewer",
    "kiosk.speak.connected": "Connected. Please speak to the screen",
    "kiosk.speak.ended": "Finished. Thank you",

    "media.none": "The camera and microphone are not on",
    "media.none.more": "You can still wait in line and see and hear the reviewer. Ask the staff here if you need help.",
    "media.no_video": "The camera is not on",
    "media.no_video.more": "The reviewer cannot see you but can hear you.",
    "media.no_audio": "The microphone is not on",
    "media.no_audio.more": "The reviewer cannot hear you but can see you.",
    "media.denied": "(Permission to use the camera or microphone was not given.)",
    "media.missing": "(No camera or microphone was found.)",
    "media.busy": "(The camera or microphone is being used by another program.)",

    "call.state.connecting": "Connecting, please wait…",
    "call.state.connected": "Connected",
    "call.state.reconnecting": "The network is unstable. Reconnecting, please wait…",
    "call.state.media_failed": "The video connection failed. Retrying…",
    "call.peer.no_video": "The other side's camera is off",
    "call.peer.no_audio": "The other side's microphone is off",
    "call.peer.no_media": "The other side's camera and microphone are both off",
    "call.sound.blocked": "Touch here to turn on the sound",

    "desk.title": "Reviewer desk",
    "desk.signed_in": "{name} ({place})",
    "desk.queues": "My queues",
    "desk.col.item": "Service",
    "desk.col.waiting": "Waiting",
    "desk.col.priority": "Priority",
    "desk.col.away": "Away",
    "desk.col.longest": "Longest wait",
    "desk.total": "{n} waiting in total",
    "desk.none": "Nobody waiting",
    "desk.call_next": "Call next",
    "desk.calling": "Calling…",
    "desk.nobody": "Nobody is waiting.",
    "desk.finish_first": "Finish the current session first.",
    "desk.applicant": "Applicant",
    "desk.applicant.unknown": "Not identified yet",
    "desk.number": "Ticket",
    "desk.window": "Kiosk (window)",
    "desk.agent": "Assisting agent",
    "desk.item": "Service",
    "desk.place": "Place",
    "desk.department": "Department",
    "desk.materials": "Materials",
    "desk.self": "Me",
    "desk.mute": "Mute",
    "desk.unmute": "Unmute",
    "desk.camera_off": "Camera off",
    "desk.camera_on": "Camera on",
    "desk.end": "Complete and end call",
    "desk.ended": "The last session has ended ({outcome}).",
    "desk.waiting_others": "{n} more waiting",
    "desk.quality": "Connection",
    "desk.quality.good": "good",
    "desk.quality.fair": "fair",
    "desk.quality.poor": "poor",
    "desk.quality.none": "no data",
    "desk.quality.detail": "loss {loss} · RTT {rtt} · {fps} fps",

    "outcome.completed": "completed",
    "outcome.incomplete": "not completed",
    "outcome.cancelled": "cancelled",
    "outcome.reviewer_left": "reviewer left",
    "outcome.kiosk_lost": "applicant's connection lost",
    "outcome.agent_lost": "agent's connection lost",
    "outcome.reviewer_lost": "reviewer's connection lost",
    "outcome.server_shutdown": "server maintenance",
    "outcome.server_lost": "the server carrying the call stopped",

    "admin.title": "Administration",
    "admin.users": "Accounts",
    "admin.kiosks": "Kiosks",
    "admin.col.username": "Username",
    "admin.col.name": "Name",
    "admin.col.role": "Role",
    "admin.col.items": "Services",
    "admin.col.place": "Place",
    "admin.col.status": "Status",
    "admin.col.kiosk_id": "ID",
    "admin.col.kiosk_name": "Name",
    "admin.enabled": "active",
    "admin.disabled": "disabled",
    "admin.add": "Add an account",
    "admin.add.username": "Username",
    "admin.add.display_name": "Display name (optional)",
    "admin.add.password": "Initial password (12 characters or more; changed at the first sign-in)",
    "admin.add.role": "Role",
    "admin.add.items": "Services (required for reviewers)",
    "admin.add.place": "Place (required for agents)",
    "admin.add.place.none": "(none)",
    "admin.add.submit": "Add",
    "admin.add.ok": "Account {username} added.",
    "admin.add.failed": "Could not add: {message}",
    "role.reviewer": "Reviewer",
    "role.supervisor": "Supervisor",
    "role.agent": "Assisting agent",
    "role.township_admin": "Township admin",
    "role.sysadmin": "System admin",
    "role.secadmin": "Security admin",
    "role.auditadmin": "Audit admin",

    "error.not_found": "Not found.",
    "error.wrong_state": "That is not possible right now.",
    "error.rate_limited": "Too fast; please wait a moment.",
    "error.media_failed": "The video connection failed; retrying.",
    "error.internal": "The server failed; please try again later.",
  },
};

let current = "zh-CN";
const listeners = new Set();

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

function initialLang() {
  const fromQuery = new URLSearchParams(location.search).get("lang");
  let stored = null;
  try {
    stored = localStorage.getItem(STORE_KEY);
  } catch {
    stored = null;
  }
  for (const candidate of [fromQuery, stored, readCookie(STORE_KEY), document.documentElement.lang]) {
    if (LANGS.includes(candidate)) return candidate;
  }
  return "zh-CN";
}

/** The current language: "zh-CN" or "en". */
export function lang() {
  return current;
}

/** The dictionary string for key in the current language, {placeholders} filled. */
export function t(key, vars = {}) {
  const table = DICT[current] || DICT["zh-CN"];
  let text = table[key] ?? DICT["zh-CN"][key];
  if (text === undefined) {
    console.warn("i18n: missing key", key);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Both languages' strings for key, as {zh, en} (for setNames and arguments). */
export function both(key) {
  return { zh: DICT["zh-CN"][key] ?? key, en: DICT.en[key] ?? DICT["zh-CN"][key] ?? key };
}

/** Whether the dictionary has this key. */
export function has(key) {
  return key in DICT["zh-CN"];
}

/**
 * A page's own string table ({key: {zh, en}}), for strings kept beside the page
 * rather than in DICT. names(key, vars) gives {zh, en} with the {placeholders}
 * filled in each language (a value may itself be {zh, en}); has(key) tells
 * whether the table has the key. Pass the result of names() to setNames.
 */
export function stringTable(table) {
  const fill = (text, vars, lang) =>
    text.replace(/\{(\w+)\}/g, (m, name) => {
      if (!(name in vars)) return m;
      const v = vars[name];
      return v && typeof v === "object" ? (v[lang] ?? v.zh) : String(v);
    });
  return {
    names(key, vars = {}) {
      const entry = table[key] || { zh: key, en: key };
      return { zh: fill(entry.zh, vars, "zh"), en: fill(entry.en, vars, "en") };
    },
    has: (key) => key in table,
  };
}

/** Pick the name for the current language from {zh, en}. */
export function pick(names) {
  if (!names) return "";
  if (typeof names === "string") return names;
  return current === "en" ? names.en || names.zh : names.zh || names.en;
}

/** Set an element's text from the dictionary; it follows later language switches. */
export function setText(el, key, vars) {
  if (!el) return;
  el.dataset.i18n = key;
  delete el.dataset.zh;
  delete el.dataset.en;
  if (vars && Object.keys(vars).length) el.dataset.i18nArgs = JSON.stringify(vars);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, resolve(vars || {}));
}

// Arguments that are themselves {zh, en} names follow the language too.
function resolve(vars) {
  const out = {};
  for (const [k, v] of Object.entries(vars)) out[k] = v && typeof v === "object" ? pick(v) : v;
  return out;
}

/** Set an element's text from {zh, en} names; it follows later language switches. */
export function setNames(el, names) {
  if (!el) return;
  delete el.dataset.i18n;
  delete el.dataset.i18nArgs;
  el.dataset.zh = names?.zh ?? "";
  el.dataset.en = names?.en ?? "";
  el.textContent = pick(names);
}

/** Re-translate every marked element under root. */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    let vars = {};
    if (el.dataset.i18nArgs) {
      try {
        vars = JSON.parse(el.dataset.i18nArgs);
      } catch {
        vars = {};
      }
    }
    el.textContent = t(el.dataset.i18n, resolve(vars));
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  for (const el of root.querySelectorAll("[data-zh]")) {
    el.textContent = pick({ zh: el.dataset.zh, en: el.dataset.en });
  }
}

/** Switch the language, remember it, re-translate the page and tell listeners. */
export function setLang(next) {
  if (!LANGS.includes(next)) return;
  current = next;
  try {
    localStorage.setItem(STORE_KEY, next);
  } catch {
    /* storage may be disabled; the cookie still remembers */
  }
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${STORE_KEY}=${encodeURIComponent(next)}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
  document.documentElement.lang = next;
  apply();
  for (const fn of listeners) {
    try {
      fn(next);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Call fn(lang) after every language switch. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function init() {
  current = initialLang();
  setLang(current);
  for (const btn of document.querySelectorAll("[data-lang-switch]")) {
    btn.addEventListener("click", () => setLang(current === "en" ? "zh-CN" : "en"));
  }
  document.body.classList.add("i18n-ready");
}

init();
