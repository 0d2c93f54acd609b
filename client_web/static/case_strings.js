// case_strings.js — words of the case page and the counter page (zh-CN first),
// and the case API's refusals ({field, code} from /api/register/cases) in plain words.

import { stringTable } from "./i18n.js";

const S = {
  "state.received": { zh: "已受理，待审核", en: "Received, awaiting review" },
  "state.in_review": { zh: "审核中", en: "In review" },
  "state.more_materials_requested": { zh: "需补正", en: "More materials requested" },
  "state.approved": { zh: "已批准", en: "Approved" },
  "state.rejected": { zh: "不予批准", en: "Rejected" },
  "state.withdrawn": { zh: "已撤回", en: "Withdrawn" },
  "mode.video": { zh: "远程视频窗口", en: "Virtual remote window" },
  "mode.forward": { zh: "收审分离", en: "Receive and forward" },
  "mode.assisted": { zh: "帮办代办", en: "Assisted filing" },
  "mode.inspection": { zh: "云踏勘", en: "Remote site inspection" },
  "role.agent": { zh: "帮办代办员", en: "agent" },
  "role.reviewer": { zh: "审批人员", en: "reviewer" },
  "role.supervisor": { zh: "监管人员", en: "supervisor" },
  "role.kiosk": { zh: "自助终端", en: "kiosk" },
  "role.sysadmin": { zh: "系统管理员", en: "system admin" },
  "role.system": { zh: "系统", en: "system" },

  "days.left": { zh: "还剩 {n} 个工作日", en: "{n} working days left" },
  "days.today": { zh: "今天到期", en: "due today" },
  "days.over": { zh: "已超期 {n} 个工作日", en: "{n} working days overdue" },
  "days.closed": { zh: "已办结", en: "closed" },

  "mat.captured": { zh: "已收 {n} 页", en: "{n} page(s) received" },
  "mat.missing": { zh: "缺少", en: "missing" },
  "mat.unreadable": { zh: "不清晰，需重新提交", en: "unreadable, to be resubmitted" },
  "page.n": { zh: "第 {n} 页", en: "page {n}" },
  "page.pdf": { zh: "PDF 第 {n} 页", en: "PDF page {n}" },
  "page.unreadable": { zh: "不清晰：{reason}", en: "unreadable: {reason}" },
  "page.source.camera": { zh: "高拍仪", en: "document camera" },
  "page.source.upload": { zh: "扫描上传", en: "scanned upload" },
  "page.title": { zh: "{material} 第 {n} 页", en: "{material}, page {n}" },
  "page.marked": { zh: "已标记为不清晰。", en: "Marked unreadable." },
  "pages.none": { zh: "还没有页面", en: "no pages yet" },

  "ev.created": { zh: "受理办件", en: "Case received" },
  "ev.state": { zh: "{from} → {to}", en: "{from} → {to}" },
  "ev.document": { zh: "收到材料：{material} 第 {page} 页", en: "Page received: {material}, page {page}" },
  "ev.unreadable": {
    zh: "标记不清晰：{material} 第 {page} 页",
    en: "Marked unreadable: {material}, page {page}",
  },
  "ev.session": { zh: "关联视频办理 {session}", en: "Video session {session} linked" },
  "ev.material": { zh: "材料 {material}：{to}", en: "Material {material}: {to}" },
  "ev.approval": { zh: "附上批件", en: "Approval document attached" },
  "ev.evidence": { zh: "云踏勘证据照片 {n} {point}", en: "Site inspection picture {n} {point}" },
  "ev.inspection": { zh: "踏勘要点“{point}”已核查（照片 {n}）", en: "Inspection point “{point}” checked (picture {n})" },

  "do.start": { zh: "开始审核", en: "Start review" },
  "do.request": { zh: "要求补正", en: "Request more materials" },
  "do.reject": { zh: "不予批准（驳回）", en: "Reject" },
  "do.refuse": { zh: "不予受理", en: "Refuse to accept" },
  "do.resume": { zh: "继续审核", en: "Resume review" },
  "do.approve": { zh: "批准", en: "Approve" },
  "do.resubmit": { zh: "补正完成，提交审核", en: "Materials added: submit for review" },
  "ok.in_review": { zh: "已开始审核。", en: "Review started." },
  "ok.more_materials_requested": {
    zh: "已要求补正，帮办员会看到您的理由。",
    en: "More materials requested; the agent sees your reason.",
  },
  "ok.rejected": { zh: "已作出不予批准的决定。", en: "Rejected." },
  "ok.approved": { zh: "已批准，批件已附上。", en: "Approved; the approval document is attached." },
  "ok.resubmitted": { zh: "已提交审核。", en: "Submitted for review." },
  "ok.withdrawn": { zh: "办件已撤回。", en: "The case was withdrawn." },
  "withdraw.no_reason": {
    zh: "请写明撤回原因（例如申请人本人不再办理）。",
    en: "Write why the case is withdrawn (for example, the applicant no longer wants it).",
  },
  "withdraw.confirm": {
    zh: "撤回后办件结束，不能恢复。确定撤回吗？再按一次“确认撤回”。",
    en: "A withdrawn case is closed for good. Sure? Press “Confirm withdrawal”.",
  },
  "do.withdraw": { zh: "撤回办件", en: "Withdraw" },
  "do.withdraw_confirm": { zh: "确认撤回", en: "Confirm withdrawal" },
  "ok.stored": { zh: "已保存：{material} 第 {page} 页。", en: "Stored: {material}, page {page}." },
  "reason.request": { zh: "要补正什么（必填，会告知申请人）", en: "What is needed (required; the applicant is told)" },
  "reason.reject": { zh: "不予批准的理由（必填）", en: "Reasons for the rejection (required)" },
  "reason.approve": { zh: "批准意见（可不填）", en: "Remarks on the approval (optional)" },
  "approve.wrong_type": {
    zh: "批件须为 PDF 文件（按文件内容检查，不看文件名）。",
    en: "The approval document must be a PDF (checked by its content, not its name).",
  },
  "approve.no_file": { zh: "请先选择已签批的 PDF 文件。", en: "Choose the signed PDF file first." },
  "ok.created": {
    zh: "已受理，办件编号 {number}。请逐项采集材料。",
    en: "Received as case {number}. Capture its materials one by one.",
  },
  "ok.submitted": {
    zh: "办件 {number} 已提交审核，审批部门处理后会在“我的办件”中显示。",
    en: "Case {number} was submitted for review; its progress shows under “My cases”.",
  },
  "submit.missing": { zh: "还缺：{missing}", en: "Still missing: {missing}" },
  "submit.confirm": {
    zh: "还缺：{missing}。确实要先提交吗？再按一次提交。",
    en: "Still missing: {missing}. Submit anyway? Press again to submit.",
  },
  "list.empty": { zh: "暂无", en: "None" },
  "list.range": { zh: "第 {from}–{to} 件，共 {total} 件", en: "{from}–{to} of {total}" },
  "print.approval": { zh: "打开并打印批件", en: "Open and print the approval" },
  "print.receipt": { zh: "打印受理回执", en: "Print the receipt" },
  "request.banner": { zh: "审批人员要求补正：{reason}", en: "The reviewer asks for more: {reason}" },
  "working": { zh: "正在处理…", en: "Working…" },
  "loading": { zh: "正在加载…", en: "Loading…" },
  "id.show": { zh: "显示完整号码", en: "Show the full number" },
  "id.hide": { zh: "隐藏", en: "Hide" },

  "cap.shoot": { zh: "拍照", en: "Capture" },
  "cap.upload": { zh: "上传扫描件", en: "Upload a scan" },
  "cap.open": { zh: "打开高拍仪", en: "Open the document camera" },
  "cap.close": { zh: "关闭高拍仪", en: "Close the document camera" },
  "cap.none": {
    zh: "没有找到摄像头。请接好高拍仪，或上传扫描件。",
    en: "No camera found. Connect the document camera, or upload scans.",
  },
  "cap.denied": { zh: "不能使用摄像头：{why}", en: "The camera cannot be used: {why}" },
  "cap.failed": { zh: "没有拍成：{why}", en: "No still taken: {why}" },
  "cap.camera": { zh: "摄像头 {n}", en: "Camera {n}" },

  "err.reason.required": { zh: "请填写理由，理由会告知申请人。", en: "Write the reasons; they go to the applicant." },
  "err.reason.too_long": { zh: "理由最多 2000 字。", en: "At most 2000 characters of reasons." },
  "err.applicant_id.invalid": {
    zh: "身份证号码不正确：应为 18 位，最后一位校验码要对得上。",
    en: "The ID number is not valid: 18 characters with a matching check digit.",
  },
  "err.applicant_name.required": { zh: "请填写申请人姓名。", en: "Enter the applicant's name." },
  "err.applicant_name.invalid": { zh: "姓名须为 1 到 64 个字。", en: "The name must be 1 to 64 characters." },
  "err.item.required": { zh: "请选择办理事项。", en: "Choose the service." },
  "err.item.unknown": { zh: "没有这个事项。", en: "There is no such service." },
  "err.mode.not_allowed": { zh: "这个事项不能用这种方式办理。", en: "This service is not handled this way." },
  "err.state.wrong_state": {
    zh: "办件当前的状态不允许这样操作（可能别人刚处理过），页面已刷新。",
    en: "The case's state does not allow this (someone may just have acted on it); the page was refreshed.",
  },
  "err.to.use_approval": {
    zh: "批准须同时附上批件，请用“批准”按钮。",
    en: "An approval needs its approval document; use the Approve button.",
  },
  "err.materials.materials_missing": {
    zh: "还缺材料，不能批准：{missing}",
    en: "Materials are missing, it cannot be approved: {missing}",
  },
  "err.file.too_large": { zh: "文件太大：{message}", en: "The file is too large: {message}" },
  "err.file.wrong_type": {
    zh: "文件类型不对：只收 JPEG、PNG 图片或 PDF。",
    en: "Wrong file type: only JPEG or PNG images and PDF files are taken.",
  },
  "err.material.unknown": { zh: "这份材料不在清单上。", en: "This material is not on the checklist." },
  "err.forbidden": { zh: "您无权这样操作：{message}", en: "You may not do this: {message}" },
  "err.forbidden.plain": { zh: "您无权这样操作。", en: "You may not do this." },
  "err.not_found": { zh: "没有找到：{message}", en: "Not found: {message}" },
  "err.unauthenticated": { zh: "登录已过期，请重新登录。", en: "You were signed out; sign in again." },
  "err.csrf": { zh: "页面已过期，请刷新后再试。", en: "The page is out of date; reload it and try again." },
  "err.network": { zh: "连不上服务器，请检查网络后再试。", en: "The server cannot be reached; check the network and retry." },
  "err.other": { zh: "操作未完成：{message}", en: "Not done: {message}" },
};

export const strings = stringTable(S);
export const names = (key, vars) => strings.names(key, vars);

/** A refusal of the case API ({status, body}) in plain words, as {zh, en}. */
export function refusal(status, body) {
  if (status === 0) return names("err.network");
  if (status === 401) return names("err.unauthenticated");
  const b = body && typeof body === "object" ? body : {};
  if (status === 403 && !b.code) {
    return names(String(b.error || "").includes("csrf") ? "err.csrf" : "err.forbidden.plain");
  }
  const message = b.message || b.error || `HTTP ${status}`;
  const missing = Array.isArray(b.missing) ? b.missing.join("、") : "";
  for (const key of [`err.${b.field}.${b.code}`, `err.${b.code}`]) {
    if (strings.has(key)) return names(key, { message, missing });
  }
  return names("err.other", { message });
}
