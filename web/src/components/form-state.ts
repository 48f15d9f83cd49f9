import { useCallback, useState } from 'react';
import { ApiError, fieldErrors } from '../app/api.ts';

/** Conflict codes the server uses for one field, so the message shows under that input. */
const CODE_FIELDS: Record<string, string> = {
  username_taken: 'username',
  email_taken: 'email',
  student_code_taken: 'studentCode',
  wrong_password: 'currentPassword',
  code_taken: 'code',
  semester_code_taken: 'code',
  course_code_taken: 'code',
};

/**
 * Values and errors of a small form. `applyError` places an API problem's messages under the
 * matching inputs; anything that matches no input is kept in `formError` for an alert.
 */
export function useFormState<T extends object>(initial: T | (() => T)) {
  const [values, setValues] = useState<T>(initial);
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [formError, setFormError] = useState<unknown>(null);

  const set = useCallback(<K extends keyof T>(key: K, value: T[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => (e[key as string] ? { ...e, [key as string]: undefined } : e));
  }, []);

  const reset = useCallback((next: T) => {
    setValues(next);
    setErrors({});
    setFormError(null);
  }, []);

  const applyError = useCallback(
    (err: unknown) => {
      const fields = fieldErrors(err);
      if (err instanceof ApiError && CODE_FIELDS[err.code] && Object.keys(fields).length === 0) {
        fields[CODE_FIELDS[err.code]] = err.detail;
      }
      const known = Object.keys(fields).filter((k) => k in (values as object) || k.split('.')[0] in (values as object));
      if (known.length > 0) {
        const next: Record<string, string> = {};
        for (const [k, v] of Object.entries(fields)) {
          next[k] = v;
          next[k.split('.')[0]] ??= v;
        }
        setErrors(next);
        setFormError(known.length === Object.keys(fields).length ? null : err);
      } else {
        setErrors({});
        setFormError(err);
      }
    },
    [values],
  );

  const clearErrors = useCallback(() => {
    setErrors({});
    setFormError(null);
  }, []);

  return { values, set, setValues, errors, setErrors, formError, setFormError, reset, applyError, clearErrors };
}
