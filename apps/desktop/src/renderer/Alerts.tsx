/** The errors of a view's mutations, each said once (the engine's message says what to do). */
export function Alerts({ errors }: { errors: ReadonlyArray<Error | null> }) {
  const messages = [...new Set(errors.flatMap((error) => (error ? [error.message] : [])))];
  return (
    <>
      {messages.map((message) => (
        <p role="alert" key={message}>
          {message}
        </p>
      ))}
    </>
  );
}
