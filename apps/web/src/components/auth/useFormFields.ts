"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { z } from "zod";
import { type FieldErrors, fieldErrorsOf } from "@/lib/account-schema";

type FieldName = keyof FieldErrors;

/**
 * The fields of an account form checked against its zod schema as they are typed: the values,
 * which fields were left (their errors show from then on), errors the server reported (cleared
 * when the field changes), and `ready` once the page is interactive. Whatever was typed before
 * that (autofill, a fast typist) is read from the inputs, so it counts.
 */
export function useFormFields<Name extends FieldName>(
  names: readonly Name[],
  schema: z.ZodType,
  /** Called on every edit (a form clears its own problem here). */
  onEdit?: () => void,
) {
  const inputs = useRef<Partial<Record<Name, HTMLInputElement | null>>>({});
  const [values, setValues] = useState(
    () => Object.fromEntries(names.map((name) => [name, ""])) as Record<Name, string>,
  );
  const [touched, setTouched] = useState<Partial<Record<Name, boolean>>>({});
  const [serverErrors, setServerErrors] = useState<FieldErrors>({});
  const [ready, setReady] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once, after hydration.
  useEffect(() => {
    setValues(
      Object.fromEntries(names.map((name) => [name, inputs.current[name]?.value ?? ""])) as Record<
        Name,
        string
      >,
    );
    setReady(true);
  }, []);

  const parsed = schema.safeParse(values);
  const errors: FieldErrors = {
    ...(parsed.success ? {} : fieldErrorsOf(parsed.error)),
    ...serverErrors,
  };
  const shown = (name: Name) => (touched[name] ? errors[name] : undefined);
  const touch = useCallback(
    (name: Name) => setTouched((current) => ({ ...current, [name]: true })),
    [],
  );

  return {
    values,
    ready,
    errors,
    shown,
    touch,
    /** What a field's input takes: its ref, name, value, and the edit and leave handlers. */
    bind: (name: Name) => ({
      inputRef: (input: HTMLInputElement | null) => {
        inputs.current[name] = input;
      },
      name,
      value: values[name],
      onChange: (event: { target: { value: string } }) => {
        setValues((current) => ({ ...current, [name]: event.target.value }));
        setServerErrors(({ [name]: _cleared, ...rest }) => rest);
        onEdit?.();
      },
      onBlur: () => touch(name),
    }),
    setServerErrors,
    /** On submit: shows every field's error and focuses the first invalid field; true if any. */
    invalid(): boolean {
      setTouched(Object.fromEntries(names.map((name) => [name, true])) as Record<Name, boolean>);
      const first = names.find((name) => errors[name]);
      if (first) inputs.current[first]?.focus();
      return first !== undefined;
    },
  };
}
