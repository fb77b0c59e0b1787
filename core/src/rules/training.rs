//! Carer training on the M&H risk assessment (DOMAIN.md §3.5): `MH-CARER-TRAINED` (a hoist
//! task needs a current, competent trained carer at sign) and `MH-TRAINING-REF` (a training
//! record names live items of the right kind, and was not given after the assessment).

use super::{fields::Stage, issue::Issue};
use crate::model::{
    common::{find_live, live},
    risk::{EquipmentKind, RiskAssessment},
};

/// Every training issue of `ra` at `stage`. `MH-TRAINING-REF` is checked on drafts too;
/// `MH-CARER-TRAINED` only at sign.
pub fn validate(ra: &RiskAssessment, stage: Stage) -> Vec<Issue> {
    let mut out = Vec::new();
    for item in live(&ra.carer_training) {
        let p = format!("carer_training.{}", item.item_id);
        let t = &item.data;
        if let Some(task) = t.task_id {
            if find_live(&ra.tasks, task).is_none() {
                out.push(Issue::error(
                    "MH-TRAINING-REF",
                    format!("{p}.task_id"),
                    "The training record names a task this assessment does not have.",
                ));
            }
        }
        for (field, id, wanted, what) in [
            (
                "hoist_id",
                t.hoist_id,
                kind_is_hoist as fn(EquipmentKind) -> bool,
                "hoist",
            ),
            ("sling_id", t.sling_id, kind_is_sling, "sling"),
        ] {
            let Some(id) = id else { continue };
            let kind = find_live(&ra.lifting_equipment, id).and_then(|e| e.data.kind);
            if !kind.is_some_and(wanted) {
                out.push(Issue::error(
                    "MH-TRAINING-REF",
                    format!("{p}.{field}"),
                    format!(
                        "The training record names a {what} that is not a {what} of this \
                         assessment's lifting equipment."
                    ),
                ));
            }
        }
        if let (Some(on), Some(assessed)) = (t.trained_on, ra.assessment_date) {
            if on > assessed {
                out.push(
                    Issue::error(
                        "MH-TRAINING-REF",
                        format!("{p}.trained_on"),
                        format!(
                            "The training date ({on}) is after the assessment date ({assessed})."
                        ),
                    )
                    .with_value(on.to_string()),
                );
            }
        }
    }
    if stage.is_final() {
        for task in live(&ra.tasks) {
            if !task.data.method.is_some_and(|m| m.is_hoist()) {
                continue;
            }
            let trained = live(&ra.carer_training)
                .any(|t| t.data.is_current_for(task.item_id, ra.assessment_date));
            if !trained {
                out.push(Issue::warn(
                    "MH-CARER-TRAINED",
                    format!("tasks.{}", task.item_id),
                    "This task uses a hoist and no carer is recorded as trained and competent \
                     on it (with a review date not passed).",
                ));
            }
        }
    }
    out
}

fn kind_is_hoist(k: EquipmentKind) -> bool {
    k.is_hoist()
}

fn kind_is_sling(k: EquipmentKind) -> bool {
    k == EquipmentKind::Sling
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::model::{
        common::{Envelope, Item, Schema},
        risk::{LiftingEquipment, Method, Task},
        training::{CarerTraining, TraineeRole},
    };

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn item<T>(data: T) -> Item<T> {
        Item::new(
            Uuid::new_v4(),
            Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap(),
            Uuid::new_v4(),
            data,
        )
    }

    /// A risk assessment with one hoist task, a hoist and a sling; returns it with the ids.
    fn ra() -> (RiskAssessment, Uuid, Uuid, Uuid) {
        let at = Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap();
        let mut ra = RiskAssessment::new(Envelope::new(
            Schema::RiskAssessment,
            Uuid::new_v4(),
            Some(crate::RecordId::new()),
            Uuid::new_v4(),
            at,
        ));
        ra.assessment_date = Some(d("2026-03-15"));
        let hoist = item(LiftingEquipment {
            kind: Some(EquipmentKind::HoistMobile),
            ..LiftingEquipment::default()
        });
        let sling = item(LiftingEquipment {
            kind: Some(EquipmentKind::Sling),
            ..LiftingEquipment::default()
        });
        let task = item(Task {
            method: Some(Method::HoistMobile),
            hoist_id: Some(hoist.item_id),
            sling_id: Some(sling.item_id),
            ..Task::default()
        });
        let ids = (task.item_id, hoist.item_id, sling.item_id);
        ra.lifting_equipment = vec![hoist, sling];
        ra.tasks = vec![task];
        (ra, ids.0, ids.1, ids.2)
    }

    fn training(task: Uuid, hoist: Uuid, sling: Uuid) -> CarerTraining {
        CarerTraining {
            trainee_name: Some("Sam Carer".into()),
            trainee_role: Some(TraineeRole::Carer),
            task_id: Some(task),
            hoist_id: Some(hoist),
            sling_id: Some(sling),
            trained_by: Some("A. Therapist".into()),
            trained_on: Some(d("2026-03-01")),
            competent: Some(true),
            review_due_on: Some(d("2026-09-01")),
        }
    }

    #[test]
    fn mh_carer_trained_hoist_task_without_a_competent_trained_carer_warns_at_sign() {
        let (mut ra, task, hoist, sling) = ra();
        let issues = validate(&ra, Stage::Final);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule_id, "MH-CARER-TRAINED");
        assert_eq!(issues[0].path, format!("tasks.{task}"));
        assert!(!issues[0].is_error());
        // Drafts are not nagged.
        assert!(validate(&ra, Stage::Draft).is_empty());
        // Not competent yet: still warns.
        let mut t = training(task, hoist, sling);
        t.competent = Some(false);
        ra.carer_training.push(item(t.clone()));
        assert_eq!(validate(&ra, Stage::Final).len(), 1);
        // Competent but the review is overdue: still warns.
        t.competent = Some(true);
        t.review_due_on = Some(d("2026-03-14"));
        ra.carer_training.push(item(t.clone()));
        assert_eq!(validate(&ra, Stage::Final).len(), 1);
        // Competent and current: clear.
        ra.carer_training.push(item(training(task, hoist, sling)));
        assert!(validate(&ra, Stage::Final).is_empty());
    }

    #[test]
    fn mh_carer_trained_tasks_without_a_hoist_need_no_training_record() {
        let (mut ra, _, _, _) = ra();
        ra.tasks[0].data.method = Some(Method::SlideSheet);
        assert!(validate(&ra, Stage::Final).is_empty());
    }

    #[test]
    fn mh_training_ref_unknown_task_wrong_kind_or_later_date_is_an_error() {
        let (mut ra, task, hoist, sling) = ra();
        // Hoist and sling swapped, an unknown task, trained after the assessment.
        let mut t = training(Uuid::new_v4(), sling, hoist);
        t.trained_on = Some(d("2026-03-16"));
        ra.carer_training.push(item(t));
        let issues = validate(&ra, Stage::Draft);
        let fields: Vec<_> = issues
            .iter()
            .map(|i| i.path.rsplit('.').next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(fields, ["task_id", "hoist_id", "sling_id", "trained_on"]);
        assert!(issues
            .iter()
            .all(|i| i.rule_id == "MH-TRAINING-REF" && i.is_error()));
        ra.carer_training[0].data = training(task, hoist, sling);
        assert!(validate(&ra, Stage::Draft).is_empty());
    }
}
