export {
  defaultLocale,
  isLocale,
  isRtl,
  type Locale,
  localeNames,
  locales,
  textDirection,
} from "./locales";
export { loadMessages, type Messages } from "./messages";
