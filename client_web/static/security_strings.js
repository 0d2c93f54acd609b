// security_strings.js — strings of the security admin's page (安全管理), zh-CN first.

import { setNames, stringTable } from "./i18n.js";

const S = {
  "role.reviewer": { zh: "审批人员", en: "Reviewer" },
  "role.supervisor": { zh: "监管人员", en: "Supervisor" },
  "role.agent": { zh: "帮办代办员", en: "Assisting agent" },
  "role.township_admin": { zh: "乡镇管理员", en: "Township admin" },
  "role.sysadmin": { zh: "系统管理员", en: "System admin" },
  "role.secadmin": { zh: "安全管理员", en: "Security admin" },
  "role.auditadmin": { zh: "审计管理员", en: "Audit admin" },
  "state.active": { zh: "正常", en: "Active" },
  "state.disabled": { zh: "已停用", en: "Disabled" },
  "state.locked": { zh: "已锁定", en: "Locked" },
  save: { zh: "保存", en: "Save" },
  saved: { zh: "{user} 的角色已改为 {role}。", en: "{user} now holds the role {role}." },
  "err.required": {
    zh: "该角色需要更多信息（审批人员须有负责事项，代办员须有所在地点），请由系统管理员先设置。",
    en: "That role needs more (a reviewer's items, an agent's place): the system admin sets them first.",
  },
  "err.self": { zh: "不能修改自己的角色。", en: "You cannot change your own role." },
  failed: { zh: "操作失败：{message}", en: "That did not work: {message}" },
};

const table = stringTable(S);
export const names = table.names;

export function applyStrings(root = document) {
  for (const el of root.querySelectorAll("[data-s]")) setNames(el, table.names(el.dataset.s));
}
