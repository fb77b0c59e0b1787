// The Activity and the navigation between screens. Each screen gets its presenter from a
// ViewModel (so it survives rotation) and renders its state; events go straight to the presenter.
package app.homevisit.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.BackHandler
import androidx.activity.compose.setContent
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.lifecycle.ViewModel
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.lifecycle.viewModelScope
import androidx.lifecycle.viewmodel.compose.viewModel
import app.homevisit.app.ui.AssessmentFormScreen
import app.homevisit.app.ui.CaseloadScreen
import app.homevisit.app.ui.ChildSummaryScreen
import app.homevisit.app.ui.ConflictResolutionScreen
import app.homevisit.app.ui.EquipmentRequestScreen
import app.homevisit.app.ui.RiskAssessmentActions
import app.homevisit.app.ui.RiskAssessmentScreen
import app.homevisit.app.ui.SignOffScreen
import app.homevisit.app.ui.SyncStatusScreen
import app.homevisit.kit.HomeVisit
import app.homevisit.presenters.AssessmentFormPresenter
import app.homevisit.presenters.CaseloadPresenter
import app.homevisit.presenters.ChildSummaryPresenter
import app.homevisit.presenters.ConflictResolutionPresenter
import app.homevisit.presenters.EquipmentRequestPresenter
import app.homevisit.presenters.Presenter
import app.homevisit.presenters.RecordKind
import app.homevisit.presenters.RecordRow
import app.homevisit.presenters.RiskAssessmentPresenter
import app.homevisit.presenters.SignOffPresenter
import app.homevisit.presenters.SyncStatusPresenter
import kotlinx.coroutines.CoroutineScope

/** Where the user is. */
sealed interface Route {
    data object Caseload : Route
    data object Sync : Route
    data class Child(val childId: String) : Route
    data class Assessment(val recordId: String) : Route
    data class Risk(val recordId: String) : Route
    data class Equipment(val recordId: String) : Route
    data class Conflicts(val recordId: String) : Route
    data class SignOff(val recordId: String) : Route
}

/** Keeps one presenter across configuration changes and closes it with the screen. */
class PresenterViewModel<P : Presenter<*>>(make: (CoroutineScope) -> P) : ViewModel() {
    val presenter: P = make(viewModelScope)

    override fun onCleared() {
        presenter.close()
    }
}

@Composable
inline fun <reified P : Presenter<*>> rememberPresenter(key: String, noinline make: (CoroutineScope) -> P): P =
    viewModel(key = key) { PresenterViewModel(make) }.presenter

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as HomeVisitApplication
        setContent {
            MaterialTheme {
                val hv = app.homeVisit
                if (hv == null) {
                    Text("Not signed in. Enrol this tablet with the team's administrator.")
                } else {
                    HomeVisitNavigation(hv, app)
                }
            }
        }
    }
}

@Composable
fun HomeVisitNavigation(hv: HomeVisit, app: HomeVisitApplication) {
    val stack = remember { mutableStateListOf<Route>(Route.Caseload) }
    val top = stack.last()
    fun go(r: Route) {
        stack.add(r)
    }
    BackHandler(enabled = stack.size > 1) { stack.removeAt(stack.lastIndex) }
    fun open(record: RecordRow) {
        when (record.kind) {
            RecordKind.ASSESSMENT -> go(Route.Assessment(record.recordId))
            RecordKind.RISK_ASSESSMENT -> go(Route.Risk(record.recordId))
            RecordKind.EQUIPMENT_REQUEST -> go(Route.Equipment(record.recordId))
            else -> {}
        }
        if (record.conflictCount > 0) go(Route.Conflicts(record.recordId))
    }
    Scaffold(
        bottomBar = {
            NavigationBar {
                NavigationBarItem(selected = top == Route.Caseload, onClick = { stack.clear(); stack.add(Route.Caseload) }, icon = {}, label = { Text("Caseload") })
                NavigationBarItem(selected = top == Route.Sync, onClick = { go(Route.Sync) }, icon = {}, label = { Text("Sync") })
            }
        },
    ) { padding ->
        Column(modifier = Modifier.padding(padding)) {
            when (val r = top) {
                Route.Caseload -> {
                    val p = rememberPresenter("caseload") { CaseloadPresenter(hv, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    CaseloadScreen(state, { p.search(it) }, { p.selectFilter(it) }, { go(Route.Child(it)) }, p::dismissError)
                }
                Route.Sync -> {
                    val p = rememberPresenter("sync") { SyncStatusPresenter(hv, app.connectivity, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    SyncStatusScreen(state, { p.syncNow() }, ::open, p::dismissError)
                }
                is Route.Child -> {
                    val p = rememberPresenter("child-${r.childId}") { ChildSummaryPresenter(hv, r.childId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    ChildSummaryScreen(
                        state,
                        onOpenRecord = ::open,
                        onEvaluate = { p.evaluateEligibility(it) },
                        onNewReferral = { p.createReferral(it) },
                        onNewAssessment = { p.createAssessment(it) },
                        onNewRiskAssessment = { p.createRiskAssessment() },
                        onNewEquipmentRequest = { service, category -> p.createEquipmentRequest(service, category) },
                        onDismissError = p::dismissError,
                    )
                }
                is Route.Assessment -> {
                    val p = rememberPresenter("assessment-${r.recordId}") { AssessmentFormPresenter(hv, r.recordId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    AssessmentFormScreen(
                        state,
                        onSelectSection = { p.selectSection(it) },
                        onValue = { path, input -> p.setValue(path, input) },
                        onToggle = { path, code, on -> p.toggleCode(path, code, on) },
                        onAddItem = { list, fields -> p.addItem(list, fields) },
                        onAcknowledge = { rule, path, reason -> p.acknowledge(rule, path, reason) },
                        onSign = { p.sign() },
                        onOpenSignOff = { go(Route.SignOff(r.recordId)) },
                        onDismissError = p::dismissError,
                    )
                }
                is Route.Risk -> {
                    val p = rememberPresenter("risk-${r.recordId}") { RiskAssessmentPresenter(hv, r.recordId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    RiskAssessmentScreen(
                        state,
                        RiskAssessmentActions(
                            onValue = { path, input -> p.setValue(path, input) },
                            onTileo = { code, present, notes -> p.setTileo(code, present, notes) },
                            onAddTask = { from, to -> p.addTask(from, to) },
                            onMethod = { task, method -> p.setTaskMethod(task, method) },
                            onRating = { task, stage, l, s -> p.setRating(task, stage, l, s) },
                            onAddControl = { task, kind, text -> p.addControl(task, kind, text) },
                            onAddEquipment = { kind, swl, last, next -> p.addEquipment(kind, swl, last.ifBlank { null }, next.ifBlank { null }) },
                            onUseEquipment = { task, slot, id -> p.useEquipment(task, slot, id) },
                            onAcknowledge = { rule, path, reason -> p.acknowledge(rule, path, reason) },
                            onSign = { p.sign() },
                            onDismissError = p::dismissError,
                        ),
                    )
                }
                is Route.Equipment -> {
                    val p = rememberPresenter("equipment-${r.recordId}") { EquipmentRequestPresenter(hv, r.recordId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    EquipmentRequestScreen(
                        state,
                        onMeasurement = { key, input -> p.setMeasurement(key, input) },
                        onJustification = { p.setJustification(it) },
                        onAddItem = { d, q -> p.addRequestItem(d, q) },
                        onValue = { path, input -> p.setValue(path, input) },
                        onAction = { to, details -> p.perform(to, details) },
                        onAcknowledge = { rule, path, reason -> p.acknowledge(rule, path, reason) },
                        onDismissError = p::dismissError,
                    )
                }
                is Route.Conflicts -> {
                    val p = rememberPresenter("conflicts-${r.recordId}") { ConflictResolutionPresenter(hv, r.recordId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    ConflictResolutionScreen(state, { path, i -> p.choose(path, i) }, { p.resolve(it) }, p::dismissError)
                }
                is Route.SignOff -> {
                    val p = rememberPresenter("signoff-${r.recordId}") { SignOffPresenter(hv, r.recordId, it) }
                    val state by p.state.collectAsStateWithLifecycle()
                    SignOffScreen(
                        state,
                        onSign = { p.sign() },
                        onCountersign = { p.countersign() },
                        onAddendum = { text, changes, reason -> p.addAddendum(text, changes, reason) },
                        onAcknowledge = { rule, path, reason -> p.acknowledge(rule, path, reason) },
                        onDismissError = p::dismissError,
                    )
                }
            }
        }
    }
}
