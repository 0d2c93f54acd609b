// catalogue.js — the public catalogue page: its strings (the rest is server-rendered).

import { applyStrings } from "./catalogue_strings.js";

applyStrings();
