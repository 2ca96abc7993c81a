import { useErrorText } from "./errors.js";

/** The errors of a view's mutations, each said once, in the user's language. */
export function Alerts({ errors }: { errors: ReadonlyArray<Error | null> }) {
  const say = useErrorText();
  const messages = [...new Set(errors.flatMap((error) => (error ? [say(error)] : [])))];
  return (
    <>
      {messages.map((message) => (
        <p role="alert" key={message} className="error">
          {message}
        </p>
      ))}
    </>
  );
}
