import { createHttpBridge } from "./http-bridge.js";

// In the browser there is no preload: install the HTTP bridge where the preload would put
// window.chorus, then start the same renderer.
Object.defineProperty(window, "chorus", { value: createHttpBridge(), configurable: false });
void import("./main.js");
