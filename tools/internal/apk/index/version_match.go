package index

import "fmt"

// The result bits of apk's comparisons (apk_version.h); an operator is the set it accepts.
const (
	opEqual   = 1
	opLess    = 2
	opGreater = 4
	opFuzzy   = 8
	// opChecksum (><) names a package file's checksum, not a version.
	opChecksum = opLess | opGreater
)

// opMask is apk_version_result_mask_blob: each of < > = ~ adds its bits, so "=~" is "~",
// ">~" is ">=" with a fuzzy equal and "<>" is "><". It returns 0 for anything else.
func opMask(op string) int {
	m := 0
	for i := 0; i < len(op); i++ {
		switch op[i] {
		case '<':
			m |= opLess
		case '>':
			m |= opGreater
		case '=':
			m |= opEqual
		case '~':
			m |= opFuzzy | opEqual
		default:
			return 0
		}
	}
	return m
}

// CheckOperator returns an error for a comparer apk does not accept, and for the checksum
// operator (>< or <>), which matches a package file's checksum rather than a version.
func CheckOperator(op string) error {
	switch m := opMask(op); {
	case m == 0:
		return fmt.Errorf("unknown operator %q (want <, <=, <~, =, ~, =~, >~, >= or >)", op)
	case m&opChecksum == opChecksum && m&opEqual == 0:
		return fmt.Errorf("operator %q compares a package checksum, not a version; write name=version", op)
	}
	return nil
}

// MatchVersion is apk_version_match: whether actual satisfies "op required". An operator
// holding <, > and = accepts any version.
func MatchVersion(actual, op, required string) bool {
	m := opMask(op)
	if m&(opLess|opGreater|opEqual) == opLess|opGreater|opEqual {
		return true
	}
	return resultBit(compare(actual, required, m&opFuzzy != 0))&m != 0
}

func resultBit(c int) int {
	switch c {
	case -1:
		return opLess
	case 1:
		return opGreater
	}
	return opEqual
}
