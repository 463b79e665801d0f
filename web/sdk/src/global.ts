// Entry of the script builds (kefu.js, kefu.min.js): sets window.Kefu.
import { Kefu } from "./index";

(window as unknown as { Kefu: typeof Kefu }).Kefu = Kefu;
