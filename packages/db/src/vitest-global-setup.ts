import { setupTestServer } from "./testing.js";

export default setupTestServer;
