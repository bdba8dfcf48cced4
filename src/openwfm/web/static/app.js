// openwfm web pages: the few behaviours htmx does not cover (no framework).
"use strict";
