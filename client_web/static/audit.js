// audit.js — the audit log viewer: rendered by the server (filters are a GET
// form, the export a link); only sign-out needs a script.

import { bindLogout } from "./staff.js";

const logout = document.querySelector("#logout");
if (logout) bindLogout(logout);
