import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";

/*
 * Length alone admits "password", "12345678" and "aaaaaaaa". zxcvbn estimates how many guesses
 * a password takes against common passwords, names, words, keyboard patterns, repeats and
 * sequences; a new password must score at least MIN_SCORE (0-4: "safely unguessable" against
 * an online attack is 3). Server side only: the dictionaries stay out of the browser bundle.
 */
export const MIN_SCORE = 3;

let factory: ZxcvbnFactory | undefined;
function estimator(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
  return factory;
}

/** True when the password is too easy to guess (also from the account's own email or name). */
export function isWeakPassword(password: string, userInputs: readonly string[] = []): boolean {
  const inputs = userInputs
    .flatMap((input) => [input, ...input.split(/[@.\s_+-]+/)])
    .filter(Boolean);
  return estimator().check(password, [...inputs]).score < MIN_SCORE;
}
