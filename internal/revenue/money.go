package revenue

import (
	"strconv"
	"strings"

	"github.com/ucc-video/ucc/internal/errs"
)

// currencyExponents maps ISO 4217 codes to their minor-unit exponent: the
// number of decimal places between the minor unit stored (cents, yen) and
// the major unit shown.
var currencyExponents = map[string]int{
	"AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
	"CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2,
	"HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "ISK": 0, "JOD": 3,
	"JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "LYD": 3, "MAD": 2, "MXN": 2, "MYR": 2,
	"NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2,
	"PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
	"TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "VND": 0,
	"XAF": 0, "XOF": 0, "ZAR": 2,
}

// CurrencyExponent returns the ISO 4217 minor-unit exponent of code
// (USD 2, JPY 0, KWD 3), or an ErrInvalid error for a code UCC does not know.
func CurrencyExponent(code string) (int, error) {
	if e, ok := currencyExponents[code]; ok {
		return e, nil
	}
	return 0, errs.Invalid("unknown_currency",
		"currency %q is not an ISO 4217 code UCC knows; use an upper-case code such as USD, EUR, GBP, JPY or KRW", errs.P("Currency", code))
}

// NormalizeCurrency upper-cases and checks a currency code.
func NormalizeCurrency(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if _, err := CurrencyExponent(c); err != nil {
		return "", err
	}
	return c, nil
}

// FormatMinor renders an amount in minor units as a decimal string with exp
// decimal places: FormatMinor(-1234, 2) = "-12.34", FormatMinor(5, 0) = "5".
func FormatMinor(amount int64, exp int) string {
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// FormatAmount renders amount in currency's exponent; unknown currencies
// fall back to exponent 2 so a report never fails to render.
func FormatAmount(amount int64, currency string) string {
	exp, err := CurrencyExponent(currency)
	if err != nil {
		exp = 2
	}
	return FormatMinor(amount, exp)
}

// MaskRef hides all but the last four characters of a payout method
// reference: "DE89370400440532013000" → "******************3000".
func MaskRef(ref string) string {
	r := []rune(ref)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// ParseAmount reads a decimal amount in currency's exponent ("12.34" USD →
// 1234, "1500" KRW → 1500) into minor units. More decimals than the
// currency has are refused rather than rounded.
func ParseAmount(s, currency string) (int64, error) {
	exp, err := CurrencyExponent(currency)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasDot := strings.Cut(s, ".")
	bad := errs.Invalid("invalid_amount", "%q is not an amount in %s (at most %d decimal places, e.g. %s)",
		errs.P("Amount", s), errs.P("Currency", currency), errs.P("Places", exp), errs.P("Example", FormatMinor(123456, exp)))
	if whole == "" || (hasDot && frac == "") || len(frac) > exp || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, bad
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, bad
	}
	if neg {
		n = -n
	}
	return n, nil
}
