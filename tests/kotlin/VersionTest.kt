import app.homevisit.core.coreVersion
import org.junit.Assert.assertTrue
import org.junit.Test

class VersionTest {
    @Test
    fun coreVersionNamesTheRuleset() {
        val v = coreVersion()
        assertTrue(v, v.contains("ruleset 2026.1"))
    }
}
