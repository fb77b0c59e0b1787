// Runs the JUnit 4 classes named on the command line and prints the CI summary line
// (`kotlin: N passed, N failed`), as tests/kotlin/RunTests.kt does for the bindings.
package app.homevisit

import org.junit.runner.JUnitCore
import kotlin.system.exitProcess

fun main(args: Array<String>) {
    val r = JUnitCore.runClasses(*args.map { Class.forName(it) }.toTypedArray())
    r.failures.forEach { System.err.println("FAIL ${it.testHeader}\n${it.trace}") }
    r.failures.forEach { println("FAIL ${it.testHeader}: ${it.message}") }
    println("kotlin: ${r.runCount - r.failureCount} passed, ${r.failureCount} failed")
    exitProcess(if (r.failureCount == 0 && r.runCount > 0) 0 else 1)
}
