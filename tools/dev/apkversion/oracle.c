/* oracle.c: apk-tools' own version code as a line filter, to regenerate the golden table in
 * tools/internal/apk/index/testdata/apkversion (see golden.sh). Linked with apk-tools' src/version.c,
 * blob.c and ctype.c from a checkout; nothing of apk-tools is committed here. */
#include <stdio.h>
#include <string.h>
#include "apk_blob.h"
#include "apk_version.h"
/* Oracle harness: reads lines "t A B" (compare), "c V" (validate), "m A OP B" (match with op mask). */
int main(void) {
	char line[4096];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *f[4] = {0}; int n = 0; char *s = line;
		for (char *p; n < 4 && (p = strsep(&s, "\t")); ) f[n++] = p;
		if (f[0][0] == 't') {
			int r = apk_version_compare(APK_BLOB_STR(f[1]), APK_BLOB_STR(f[2]));
			printf("%s\t%s\t%s\n", f[1], apk_version_op_string(r), f[2]);
		} else if (f[0][0] == 'c') {
			printf("%s\t%d\n", f[1], apk_version_validate(APK_BLOB_STR(f[1])));
		} else if (f[0][0] == 'm') {
			int op = apk_version_result_mask(f[2]);
			printf("%s\t%s\t%s\t%d\n", f[1], f[2], f[3], apk_version_match(APK_BLOB_STR(f[1]), op, APK_BLOB_STR(f[3])));
		}
	}
	return 0;
}
int apk_digest_alg_len(unsigned char a) { (void)a; return 0; } /* blob.c references it; versions never do */
