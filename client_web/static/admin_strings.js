// admin_strings.js — the admin page's messages, zh-CN first, and the API's error
// codes ({field, code} from /api/admin/*) in plain words.

import { stringTable } from "./i18n.js";

const S = {
  "ok.added": { zh: "已添加账户 {username}。", en: "Account {username} added." },
  "ok.saved": { zh: "已保存对账户 {username} 的修改。", en: "Changes to {username} saved." },
  "ok.unchanged": { zh: "没有需要保存的修改。", en: "Nothing to save." },
  "ok.disabled": {
    zh: "已停用账户 {username}，其登录和连接已断开。",
    en: "Account {username} disabled; its sign-ins and connections ended.",
  },
  "ok.enabled": { zh: "已启用账户 {username}。", en: "Account {username} enabled." },
  "ok.password": { zh: "已重置 {username} 的密码。", en: "Password of {username} reset." },
  "ok.revoked": {
    zh: "已吊销终端 {name}，它的连接已断开，令牌不能再使用。",
    en: "Kiosk {name} revoked: its connection ended and its token no longer works.",
  },
  "action.edit": { zh: "修改", en: "Edit" },
  "action.disable": { zh: "停用", en: "Disable" },
  "action.enable": { zh: "启用", en: "Enable" },
  "action.revoke": { zh: "吊销", en: "Revoke" },
  "action.revoke.confirm": { zh: "确认吊销？", en: "Really revoke?" },
  "kiosk.active": { zh: "正常", en: "active" },
  "kiosk.revoked": { zh: "已吊销", en: "revoked" },
  "kiosk.expired": { zh: "令牌已过期", en: "token expired" },
  "status.enabled": { zh: "正常", en: "active" },
  "status.disabled": { zh: "已停用", en: "disabled" },
  failed: { zh: "操作未完成：{reason}", en: "Not done: {reason}" },

  "field.username": { zh: "用户名", en: "Username" },
  "field.password": { zh: "密码", en: "Password" },
  "field.display_name": { zh: "姓名", en: "Display name" },
  "field.role": { zh: "角色", en: "Role" },
  "field.items": { zh: "负责事项", en: "Services" },
  "field.place": { zh: "所在地点", en: "Place" },
  "field.disabled": { zh: "状态", en: "Status" },
  "field.kiosk": { zh: "终端", en: "Kiosk" },

  "err.username.invalid": {
    zh: "用户名须为 1 到 64 个字符，不能含制表符、换行等控制字符。",
    en: "The username must be 1 to 64 characters, without tabs, newlines or other control characters.",
  },
  "err.username.exists": { zh: "这个用户名已经有人使用。", en: "This username is already taken." },
  "err.username.not_found": { zh: "没有这个账户。", en: "There is no such account." },
  "err.password.too_short": {
    zh: "密码太短（长度要求见安全策略，默认至少 12 位）。",
    en: "The password is too short (see the policy; 12 characters by default).",
  },
  "err.password.classes": {
    zh: "密码须包含大写字母、小写字母、数字、其他字符中的至少 3 类。",
    en: "Use at least 3 of: upper case, lower case, digits, other characters.",
  },
  "err.password.username": {
    zh: "密码不能包含用户名。",
    en: "The password may not contain the username.",
  },
  "err.password.reused": {
    zh: "不能使用最近用过的密码。",
    en: "The password was used recently.",
  },
  "err.role.separation": {
    zh: "三员分立：管理员角色只能由安全管理员分配。",
    en: "Separation of duties: admin roles are given by the security admin.",
  },
  "err.username.self": {
    zh: "须由另一位系统管理员操作。",
    en: "Another system admin must do this.",
  },
  "ok.unlocked": { zh: "已解锁账户 {username}。", en: "Account {username} unlocked." },
  "ok.totp_reset": {
    zh: "已重置 {username} 的动态口令，其下次登录时重新绑定。",
    en: "The second factor of {username} was reset; they enrol again at the next sign-in.",
  },
  "action.unlock": { zh: "解锁", en: "Unlock" },
  "action.totp_reset": { zh: "重置动态口令", en: "Reset TOTP" },
  "status.locked": { zh: "已锁定", en: "locked" },
  "err.password.too_long": {
    zh: "密码最多 1024 位。",
    en: "The password may have at most 1024 characters.",
  },
  "err.display_name.too_long": {
    zh: "姓名最多 64 个字符。",
    en: "The display name may have at most 64 characters.",
  },
  "err.display_name.invalid": {
    zh: "姓名不能含制表符、换行等控制字符。",
    en: "The display name may not contain tabs, newlines or other control characters.",
  },
  "err.display_name.required": { zh: "姓名不能为空。", en: "The display name may not be empty." },
  "err.role.invalid": { zh: "请选择一个有效的角色。", en: "Choose a valid role." },
  "err.items.required": {
    zh: "审批人员至少要负责一个事项。",
    en: "A reviewer must serve at least one service.",
  },
  "err.items.unknown": {
    zh: "所选事项不在事项清单中。",
    en: "A chosen service is not in the catalogue.",
  },
  "err.place.required": {
    zh: "帮办代办员必须指定所在地点。",
    en: "An assisting agent must have a place.",
  },
  "err.place.unknown": { zh: "所选地点不在地点清单中。", en: "The chosen place is not listed." },
  "err.place.invalid": {
    zh: "乡镇管理员必须绑定一个乡镇便民服务中心。",
    en: "A township admin is bound to a township service centre.",
  },
  "err.disabled.self": {
    zh: "不能停用自己正在使用的账户。",
    en: "You cannot disable your own account.",
  },
  "err.role.self": {
    zh: "不能取消自己的管理员角色。",
    en: "You cannot take away your own administrator role.",
  },
  "err.kiosk.not_found": { zh: "没有这个终端。", en: "There is no such kiosk." },
  "err.required": { zh: "请填写“{field}”。", en: "Fill in “{field}”." },
  "err.type": { zh: "“{field}”的格式不对。", en: "“{field}” has the wrong format." },
  "err.unknown": { zh: "请求里有不认识的字段“{field}”。", en: "Unknown field “{field}”." },
  "err.too_long": { zh: "“{field}”太长了。", en: "“{field}” is too long." },
  "err.invalid": { zh: "“{field}”的内容不正确。", en: "“{field}” is not valid." },
  "err.too_large": { zh: "提交的内容太长。", en: "What was sent is too long." },
  "err.forbidden": {
    zh: "没有权限，或登录已过期，请重新登录。",
    en: "Not allowed, or the sign-in has expired; please sign in again.",
  },
  "err.status": { zh: "服务器返回 {status}。", en: "The server answered {status}." },
  "err.network": { zh: "无法连接服务器。", en: "The server cannot be reached." },
};

const table = stringTable(S);

/** {zh, en} for a key, placeholders filled in both languages (values may be {zh, en}). */
export const names = table.names;

/** The words for an API error body ({error, field, code}) or an HTTP status. */
export function errorNames(body, status) {
  if (body && body.error === "bad_field" && body.field) {
    const specific = `err.${body.field}.${body.code}`;
    if (table.has(specific)) return names(specific);
    const field = S[`field.${body.field}`] || { zh: body.field, en: body.field };
    if (table.has(`err.${body.code}`)) return names(`err.${body.code}`, { field });
    return names("err.invalid", { field });
  }
  if (body && body.error === "too_large") return names("err.too_large");
  if (status === 401 || status === 403) return names("err.forbidden");
  if (status === 0) return names("err.network");
  return names("err.status", { status });
}
