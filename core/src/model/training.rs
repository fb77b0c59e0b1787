//! Carer training records on the M&H risk assessment (DOMAIN.md §3.5, "Training record"):
//! who was trained on which task, with which hoist and sling, by whom, when, whether they were
//! found competent, and when the training is reviewed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraineeRole {
    /// A parent or other carer at home.
    Carer,
    /// School staff.
    SchoolStaff,
    /// Respite or short-breaks staff.
    RespiteStaff,
}

/// A training record (an item of `carer_training`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CarerTraining {
    /// The trainee's name.
    pub trainee_name: Option<String>,
    /// Carer, school staff or respite staff.
    pub trainee_role: Option<TraineeRole>,
    /// The task (an item id of `tasks`).
    pub task_id: Option<Uuid>,
    /// The hoist (an item id of `lifting_equipment`).
    pub hoist_id: Option<Uuid>,
    /// The sling (an item id of `lifting_equipment`).
    pub sling_id: Option<Uuid>,
    /// Who trained them (name).
    pub trained_by: Option<String>,
    /// When.
    pub trained_on: Option<NaiveDate>,
    /// Whether they were found competent.
    pub competent: Option<bool>,
    /// When the training is reviewed.
    pub review_due_on: Option<NaiveDate>,
}

impl CarerTraining {
    /// Whether this record makes someone a current, competent trained carer for `task` on
    /// `as_of` (`MH-CARER-TRAINED`): it names the task, `competent` is true and the review is
    /// not overdue.
    pub fn is_current_for(&self, task: Uuid, as_of: Option<NaiveDate>) -> bool {
        self.task_id == Some(task)
            && self.competent == Some(true)
            && match (self.review_due_on, as_of) {
                (Some(review), Some(d)) => review >= d,
                (Some(_), None) => true,
                (None, _) => false,
            }
    }
}
