// verify.js — the public verification page: its strings in both languages.

import { applyStrings } from "./receipt_strings.js";

applyStrings("verify.title");
