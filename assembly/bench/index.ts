export { init, tick } from "../index";
