// staff_page.js — for simple signed-in pages (agent, forbidden): the sign-out button.

import "./i18n.js";
import { bindLogout } from "./staff.js";

const button = document.querySelector("#logout");
if (button) bindLogout(button);
