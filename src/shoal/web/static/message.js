// A message page (e.g. "not an IP address", 404): nothing to load, but the header's token and jump boxes work.

import { initPage } from "./shoal.js";

initPage(() => {});
