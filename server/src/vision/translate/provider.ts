/**
 * Machine translation behind one interface, so the product can use a local engine (apertium), a
 * self-hosted service (LibreTranslate) or a cloud one (Amazon Translate) without its callers
 * knowing which. Languages are ISO 639-1 codes where one exists ("es", "en"), otherwise the
 * provider's own code.
 */
export type ProviderName = 'apertium' | 'libretranslate' | 'aws' | 'none';

export interface LanguagePair {
  from: string;
  to: string;
}

export interface TranslationProvider {
  readonly name: ProviderName;
  /** The pairs this provider can translate; throws when the provider cannot be reached. */
  pairs(): Promise<LanguagePair[]>;
  /** Translates plain text; the caller has already checked the text and the pair. */
  translate(text: string, from: string, to: string): Promise<string>;
}

/** ISO 639-2/3 codes used by apertium, mapped to ISO 639-1 for the API. */
const ISO3_TO_1: Record<string, string> = {
  spa: 'es',
  eng: 'en',
  cat: 'ca',
  fra: 'fr',
  por: 'pt',
  ita: 'it',
  deu: 'de',
  glg: 'gl',
  eus: 'eu',
  oci: 'oc',
  nld: 'nl',
  epo: 'eo',
  ron: 'ro',
  arg: 'an',
  nob: 'nb',
  nno: 'nn',
  swe: 'sv',
  dan: 'da',
  isl: 'is',
  pol: 'pl',
  ces: 'cs',
  slk: 'sk',
  rus: 'ru',
  ukr: 'uk',
  bel: 'be',
  bul: 'bg',
  mkd: 'mk',
  hbs: 'sh',
  slv: 'sl',
  eng_US: 'en-US',
};

export function iso1(code: string): string {
  return ISO3_TO_1[code] ?? code;
}

export function iso3(code: string): string {
  for (const [k, v] of Object.entries(ISO3_TO_1)) if (v === code) return k;
  return code;
}

/** Language codes as the API accepts them: letters, optionally a region ("en-US"). */
export const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z]{2,4})?$/;
