// stats.js — the statistics page: its strings and sign-out. Everything else
// (tables, SVG charts, downloads) is rendered by the server.

import { applyStrings } from "./stats_strings.js";
import { bindLogout } from "./staff.js";

applyStrings();
const logout = document.querySelector("#logout");
if (logout) bindLogout(logout);
