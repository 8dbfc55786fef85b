import type { McxInputErrorCode } from '../../__generated__/resolvers-types.js';
import { DATE, DATE_TIME } from '../../scalars.js';

/** A problem with one input field, returned as data. `index` is set for batch members. */
export interface FieldError {
  field: string;
  code: McxInputErrorCode;
  message: string;
  index?: number;
}

// Force references and subject references: letters, digits and a few separators, no spaces,
// so that nobody can type a child's name into them.
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9/_.:-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const POSTCODE = /^(GIR 0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$/i;
const UPRN = /^[0-9]{1,12}$/;

/**
 * Collects field errors while reading an input object. Every reader returns the value it
 * accepted (or undefined) and records at most one error per field.
 */
export class InputChecker {
  readonly errors: FieldError[] = [];

  constructor(private readonly prefix = '') {}

  private path(field: string): string {
    return this.prefix ? `${this.prefix}.${field}` : field;
  }

  fail(field: string, code: McxInputErrorCode, message: string): undefined {
    this.errors.push({ field: this.path(field), code, message });
    return undefined;
  }

  /** A child checker whose errors land in this one under `field.` */
  nested(field: string): InputChecker {
    const child = new InputChecker(this.path(field));
    child.errors.push = (...items: FieldError[]) => this.errors.push(...items);
    return child;
  }

  required<T>(field: string, value: T | null | undefined): T | undefined {
    if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
      return this.fail(field, 'REQUIRED', `${field} is required`);
    }
    return value;
  }

  reference(field: string, value: string | null | undefined, opts: { required: boolean; max: number }): string | undefined {
    if (value === null || value === undefined || value === '')
      return opts.required ? this.fail(field, 'REQUIRED', `${field} is required`) : undefined;
    if (value.length > opts.max) return this.fail(field, 'TOO_LONG', `${field} must be at most ${opts.max} characters`);
    if (!REFERENCE.test(value)) return this.fail(field, 'INVALID_FORMAT', `${field} must be letters, digits and / _ . : - with no spaces`);
    return value;
  }

  uuid(field: string, value: string | null | undefined): string | undefined {
    const v = this.required(field, value);
    if (v === undefined) return undefined;
    if (v.length > 36 || !UUID.test(v)) return this.fail(field, 'INVALID_FORMAT', `${field} must be a UUID`);
    return v.toLowerCase();
  }

  version(field: string, value: number | null | undefined): number | undefined {
    const v = this.required(field, value);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < 1 || v > 2_000_000_000)
      return this.fail(field, 'OUT_OF_RANGE', `${field} must be a whole number from 1`);
    return v;
  }

  /** An RFC 3339 instant, not later than now plus the allowed clock skew. */
  instant(field: string, value: string | null | undefined, opts: { required: boolean; notAfter: Date }): Date | undefined {
    if (value === null || value === undefined) return opts.required ? this.fail(field, 'REQUIRED', `${field} is required`) : undefined;
    const d = new Date(value);
    if (!DATE_TIME.test(value) || Number.isNaN(d.getTime()))
      return this.fail(field, 'INVALID_FORMAT', `${field} must be an RFC 3339 date-time with an offset`);
    if (d.getTime() > opts.notAfter.getTime()) return this.fail(field, 'IN_FUTURE', `${field} is in the future`);
    if (d.getUTCFullYear() < 1990) return this.fail(field, 'OUT_OF_RANGE', `${field} is before 1990`);
    return d;
  }

  date(field: string, value: string | null | undefined, opts: { required: boolean }): string | undefined {
    if (value === null || value === undefined) return opts.required ? this.fail(field, 'REQUIRED', `${field} is required`) : undefined;
    const d = new Date(`${value}T00:00:00Z`);
    if (!DATE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
      return this.fail(field, 'INVALID_FORMAT', `${field} must be a calendar date, YYYY-MM-DD`);
    }
    return value;
  }

  list<T>(field: string, value: readonly T[] | null | undefined, max: number): readonly T[] {
    if (!value) return [];
    if (value.length > max) {
      this.fail(field, 'TOO_MANY', `${field} may hold at most ${max} items`);
      return [];
    }
    return value;
  }

  postcode(field: string, value: string | null | undefined): string | undefined {
    if (value === null || value === undefined || value === '') return undefined;
    if (value.length > 8 || !POSTCODE.test(value.trim())) return this.fail(field, 'INVALID_FORMAT', `${field} must be a UK postcode`);
    const compact = value.replace(/\s+/g, '').toUpperCase();
    return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
  }

  uprn(field: string, value: string | null | undefined): string | undefined {
    if (value === null || value === undefined || value === '') return undefined;
    if (!UPRN.test(value)) return this.fail(field, 'INVALID_FORMAT', `${field} must be up to 12 digits`);
    return value;
  }

  coordinate(field: string, value: number | null | undefined, limit: number): number | undefined {
    if (value === null || value === undefined) return undefined;
    if (!Number.isFinite(value) || Math.abs(value) > limit)
      return this.fail(field, 'OUT_OF_RANGE', `${field} must be between -${limit} and ${limit}`);
    return Math.round(value * 1e6) / 1e6;
  }
}

/** The outcome of validating one input: the clean value, or the errors. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };
