// receipt.js — the printable receipt (受理回执): its strings, the print button, sign-out.

import { applyStrings } from "./receipt_strings.js";
import { bindLogout } from "./staff.js";

applyStrings("receipt.title");
const print = document.querySelector("#print");
if (print) print.addEventListener("click", () => window.print());
const logout = document.querySelector("#logout");
if (logout) bindLogout(logout);
