/** Currency symbols a money value may carry before or after its number (`$1,234.50`, `12.50 €`, `₩15,000`). */
export const CURRENCY_SYMBOLS = '$€£¥₹₩₺₽₦₱฿₫₪₴';
/**
 * Signs of more than one character, written as the symbols are: Brazil's `R$ 1.234,56`, the dollars named by
 * their country (`US$`, `A$`, `C$`, `NZ$`, `HK$`, `S$`, `MX$`), Peru's `S/ 25.90`, and the local signs
 * of Poland (`12,50 zł`), Scandinavia (`125,00 kr`, Denmark's `kr.`), Czechia (`Kč`), Hungary (`Ft`),
 * Indonesia (`Rp 150.000`) and Malaysia (`RM 12.90`).
 */
// biome-ignore format: a list of signs, not one a line
export const CURRENCY_SIGNS = [
  'R$', 'US$', 'A$', 'AU$', 'C$', 'CA$', 'NZ$', 'HK$', 'S$', 'MX$', 'S/', 'zł', 'kr', 'Kč', 'Ft', 'Rp', 'RM',
] as const;
/** CURRENCY_SIGNS as RE2 alternatives (`$` escaped); tried before the one-character symbols, so `R$` is not `$`. */
export const CURRENCY_SIGN_PATTERN = CURRENCY_SIGNS.map((sign) => sign.replace('$', '\\$')).join('|');
/** A sign or a symbol, as RE2 alternatives. */
export const CURRENCY_MARK_PATTERN = `${CURRENCY_SIGN_PATTERN}|[${CURRENCY_SYMBOLS}]`;
/**
 * ISO codes written in place of a symbol (`USD 12.50`, `12,50 EUR`), upper case, and India's `Rs` (`Rs. 1,299`).
 * A closed list: any three capitals before a number would take product codes (`LOT 123`) for money. Column
 * names carry them as units too (`Sales (USD)`, `umsatz_eur`).
 */
// biome-ignore format: a list of codes, not one a line
export const CURRENCY_CODES = [
  'USD', 'EUR', 'GBP', 'JPY', 'CNY', 'INR', 'AUD', 'CAD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF',
  'RUB', 'TRY', 'BRL', 'MXN', 'ARS', 'CLP', 'COP', 'PEN', 'ZAR', 'NGN', 'KES', 'EGP', 'AED', 'SAR', 'ILS',
  'KRW', 'SGD', 'HKD', 'TWD', 'NZD', 'IDR', 'MYR', 'PHP', 'THB', 'VND', 'PKR', 'BDT', 'LKR', 'Rs',
] as const;
